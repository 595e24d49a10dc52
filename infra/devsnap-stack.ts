import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SnapshotBucket } from './snapshot-bucket.js';

/** Deploy-time settings, from cdk.json `context` or `cdk deploy -c devsnap:<name>=<value>`. */
interface DevsnapSettings {
  readonly retainSnapshotsDays: number;
}

/** The devsnap deployment: where snapshots are kept, and (later) the nightly pipeline that writes them. */
export class DevsnapStack extends Stack {
  readonly snapshots: SnapshotBucket;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'devsnap: anonymised PostgreSQL snapshots for development', ...props });
    const settings = readSettings(this);

    this.snapshots = new SnapshotBucket(this, 'Snapshots', {
      retainSnapshotsDays: settings.retainSnapshotsDays,
    });

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
