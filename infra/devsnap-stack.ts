import { resolve } from 'node:path';
import { Annotations, type CfnElement, CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ExportPipeline } from './export-pipeline.js';
import { SnapshotBucket } from './snapshot-bucket.js';

/** Deploy-time settings, from cdk.json `context` or `cdk deploy -c devsnap:<name>=<value>`. */
interface DevsnapSettings {
  readonly retainSnapshotsDays: number;
}

/** The devsnap deployment: where snapshots are kept, and (later) the nightly pipeline that writes them. */
export class DevsnapStack extends Stack {
  readonly snapshots: SnapshotBucket;
  readonly developerPolicy: iam.ManagedPolicy;
  readonly sharePolicy: iam.ManagedPolicy;
  readonly pipeline: ExportPipeline | undefined;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'devsnap: anonymised PostgreSQL snapshots for development', ...props });
    const settings = readSettings(this);

    this.snapshots = new SnapshotBucket(this, 'Snapshots', {
      retainSnapshotsDays: settings.retainSnapshotsDays,
    });

    // Attach to the developers' role or group: list and get under snapshots/, latest.json, decrypt.
    this.developerPolicy = new iam.ManagedPolicy(this, 'DeveloperReadPolicy', {
      description: 'Pull devsnap snapshots (read-only)',
    });
    this.snapshots.grantRead(this.developerPolicy);

    const bucketId = this.getLogicalId(this.snapshots.bucket.node.defaultChild as CfnElement);
    for (const pattern of [
      'snapshots/*/manifest.json',
      'snapshots/*/seal.json',
      'snapshots/*/schema/*',
      'snapshots/*/data/*',
    ]) {
      Validations.of(this.developerPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`,
        reason:
          'Developers pull any published snapshot by id, and ids are new every night; read-only, published files only.',
      });
    }

    // Attach to those who may hand a snapshot to a laptop without AWS credentials (devsnap share).
    this.sharePolicy = new iam.ManagedPolicy(this, 'DeveloperSharePolicy', {
      description: 'Share devsnap snapshots with presigned links (devsnap share)',
    });
    this.snapshots.grantShare(this.sharePolicy);
    Validations.of(this.sharePolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/shares/*]`,
      reason: 'Each share document gets a new random name; limited to shares/, which expires after 8 days.',
    });
    Validations.of(this.snapshots.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'A log bucket would hold request records of anonymised data for no reader; the account audits S3 through CloudTrail.',
    });

    this.pipeline = readPipelineSettings(this, this.snapshots);
    if (this.pipeline) {
      // So a developer can fetch the public key to trust: aws kms get-public-key --key-id <SnapshotSigningKeyArn>.
      this.pipeline.signingKey.grant(this.developerPolicy, 'kms:GetPublicKey');
      new CfnOutput(this, 'SnapshotSigningKeyArn', {
        description: 'KMS key that signs each snapshot; trust its public key with devsnap trust add',
        value: this.pipeline.signingKey.keyArn,
      });
    }

    // The CLI and onboarding scripts are configured from these two values.
    new CfnOutput(this, 'SnapshotBucketName', {
      description: 'S3 bucket that holds snapshots and latest.json',
      value: this.snapshots.bucket.bucketName,
    });
    new CfnOutput(this, 'SnapshotKeyArn', {
      description: 'KMS key that encrypts the snapshots',
      value: this.snapshots.key.keyArn,
    });
  }
}

/**
 * The export pipeline needs the cluster; without `devsnap:clusterArn` the stack holds the bucket and
 * the developer policy only (and says so), so the bucket can be deployed first.
 */
function readPipelineSettings(stack: Stack, snapshots: SnapshotBucket): ExportPipeline | undefined {
  const context = (name: string): string | undefined => {
    const value = stack.node.tryGetContext(`devsnap:${name}`);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const clusterArn = context('clusterArn');
  const pgMode = context('source') === 'pg';
  if (clusterArn === undefined && !pgMode) {
    Annotations.of(stack).addInfo(
      'No export pipeline: pass -c devsnap:clusterArn=… -c devsnap:databaseSecretArn=… -c devsnap:database=… to add it.',
    );
    return undefined;
  }
  const required = (name: string): string => {
    const value = context(name);
    if (value === undefined)
      throw new Error(
        `Context devsnap:${name} is required ${pgMode ? 'with devsnap:source=pg' : 'with devsnap:clusterArn'}; pass -c devsnap:${name}=…`,
      );
    return value;
  };
  const number = (name: string): number | undefined => {
    const value = context(name);
    return value === undefined ? undefined : Number(value);
  };
  const list = (name: string) =>
    required(name)
      .split(',')
      .map((item) => item.trim());
  const source = pgMode
    ? {
        pg: {
          databaseUrlSecretArn: required('databaseUrlSecretArn'),
          // From attributes, not a lookup, so synth needs no AWS access.
          vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
            vpcId: required('vpcId'),
            availabilityZones: list('availabilityZones'),
            privateSubnetIds: list('privateSubnetIds'),
          }),
          vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          database: {
            peer: ec2.Peer.ipv4(required('databaseCidr')),
            port: number('databasePort'),
          },
          endpoints: {
            s3PrefixListId: required('s3PrefixListId'),
            secretsManager: ec2.Peer.ipv4(required('endpointsCidr')),
          },
        },
      }
    : { clusterArn, databaseSecretArn: required('databaseSecretArn'), database: required('database') };
  return new ExportPipeline(stack, 'Export', {
    snapshots,
    ...source,
    anonymiseSecretArn: context('anonymiseSecretArn'),
    configPath: resolve(context('configPath') ?? 'devsnap.config.ts'),
    maxConcurrency: number('maxConcurrency'),
    partRows: number('partRows'),
    keepNewest: number('keepNewest'),
    allowUnverifiedPersonalData: context('allowUnverifiedPersonalData') === 'true',
    scheduleCron: context('scheduleCron'),
    scheduleTimeZone: context('scheduleTimeZone'),
    allowPrivilegedSourceRole: context('allowPrivilegedSourceRole') === 'true',
  });
}

/**
 * Defaults here match cdk.json, so a test that builds the stack without cdk.json synthesises the same
 * template. Values given with `-c` arrive as strings, hence the parsing.
 */
function readSettings(scope: Construct): DevsnapSettings {
  const raw = scope.node.tryGetContext('devsnap:retainSnapshots') ?? 14;
  const retainSnapshotsDays = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (!Number.isInteger(retainSnapshotsDays) || retainSnapshotsDays < 1) {
    throw new Error(
      `Context devsnap:retainSnapshots must be a whole number of days >= 1, got ${JSON.stringify(raw)}; ` +
        'fix it in cdk.json or pass -c devsnap:retainSnapshots=14',
    );
  }
  return { retainSnapshotsDays };
}
