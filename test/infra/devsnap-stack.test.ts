import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { DevsnapStack } from '../../infra/devsnap-stack.js';
import { SnapshotBucket } from '../../infra/snapshot-bucket.js';
import { cdkContext, logicalIdOf, snapshotReadStatements } from '../support/cdk-template.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function synthStack(context: Record<string, unknown> = {}): { stack: DevsnapStack; template: Template } {
  const app = new App({ context: { ...cdkContext, ...context } });
  const stack = new DevsnapStack(app, 'Devsnap');
  return { stack, template: Template.fromStack(stack) };
}

describe('DevsnapStack', () => {
  it('creates one KMS key with rotation enabled, retained on stack deletion', () => {
    const { template } = synthStack();
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('encrypts the bucket with aws:kms using that key and an S3 bucket key', () => {
    const { stack, template } = synthStack();
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf(stack.snapshots.key), 'Arn'] },
            },
          },
        ],
      },
    });
  });

  it('blocks all four kinds of public access', () => {
    const { template } = synthStack();
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('denies every S3 action on the bucket and its objects when the request is not over TLS', () => {
    const { stack, template } = synthStack();
    const bucketId = logicalIdOf(stack.snapshots.bucket);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [
              { 'Fn::GetAtt': [bucketId, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
            ],
          },
        ]),
      },
    });
  });

  it('versions objects, disables ACLs, and retains the bucket on stack deletion', () => {
    const { template } = synthStack();
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('expires snapshots/ after 14 days by default, noncurrent versions after 7, and incomplete uploads after 1', () => {
    const { template } = synthStack();
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          { Id: 'ExpireSnapshots', Prefix: 'snapshots/', ExpirationInDays: 14, Status: 'Enabled' },
          { Id: 'ExpireShares', Prefix: 'shares/', ExpirationInDays: 8, Status: 'Enabled' },
          {
            Id: 'CleanUpVersionsAndUploads',
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            ExpiredObjectDeleteMarker: true,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
    });
  });

  // A number from cdk.json and a string from `cdk synth -c devsnap:retainSnapshots=30` mean the same.
  it.each([30, '30'])('takes the snapshot retention from context devsnap:retainSnapshots = %j', (days) => {
    const { template } = synthStack({ 'devsnap:retainSnapshots': days });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'ExpireSnapshots', ExpirationInDays: 30 })]),
      },
    });
  });

  it.each([0, 1.5, 'two weeks', ''])(
    'rejects devsnap:retainSnapshots = %j and names the context key',
    (days) => {
      expect(() => synthStack({ 'devsnap:retainSnapshots': days })).toThrow(/devsnap:retainSnapshots/);
    },
  );

  it('outputs the bucket name and key ARN', () => {
    const { stack, template } = synthStack();
    template.hasOutput('SnapshotBucketName', {
      Value: { Ref: logicalIdOf(stack.snapshots.bucket) },
    });
    template.hasOutput('SnapshotKeyArn', {
      Value: { 'Fn::GetAtt': [logicalIdOf(stack.snapshots.key), 'Arn'] },
    });
  });
});

describe('SnapshotBucket', () => {
  function newStack(): Stack {
    return new Stack(new App({ context: cdkContext }), 'Test');
  }

  it('encrypts with a caller-supplied key instead of creating one', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(
      stack,
      'Central',
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    const snapshots = new SnapshotBucket(stack, 'Snapshots', { encryptionKey: key, retainSnapshotsDays: 3 });
    const template = Template.fromStack(stack);

    expect(snapshots.key).toBe(key);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.keyArn },
          }),
        ],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'ExpireSnapshots', ExpirationInDays: 3 })]),
      },
    });
  });

  it('grantRead allows listing snapshots/, reading published files and latest.json and decrypting, and nothing else', () => {
    const stack = newStack();
    const snapshots = new SnapshotBucket(stack, 'Snapshots');
    const developer = new iam.Role(stack, 'Developer', { assumedBy: new iam.AccountRootPrincipal() });
    snapshots.grantRead(developer);
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(developer) }],
      PolicyDocument: {
        Statement: Match.exact(snapshotReadStatements(snapshots)),
        Version: '2012-10-17',
      },
    });
  });

  it('rejects a retention that is not a whole number of days', () => {
    const stack = newStack();
    expect(() => new SnapshotBucket(stack, 'Snapshots', { retainSnapshotsDays: 0 })).toThrow(
      /Test\/Snapshots: retainSnapshotsDays must be a whole number of days >= 1, got 0/,
    );
  });
});

describe('cdk synth', () => {
  it('synthesises the app offline through the CDK CLI', { timeout: 60_000 }, async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'devsnap-cdk-'));
    try {
      await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outdir], {
        cwd: repoRoot,
        env: offlineCdkEnv(),
        timeout: 55_000,
      });
      const templateFile = join(outdir, 'Devsnap.template.json');
      expect(existsSync(templateFile)).toBe(true);
      expect(readFileSync(templateFile, 'utf8')).toContain('"AWS::S3::Bucket"');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

/**
 * The CLI reaches out for a version check, notices and telemetry, and looks up the default account
 * when it finds credentials (STS, or the EC2 metadata endpoint). None of that is needed to synthesise,
 * so the child gets no AWS credentials or profile and every such feature switched off.
 */
function offlineCdkEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('CDK_')),
  );
  return {
    ...env,
    CI: 'true',
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(tmpdir(), 'devsnap-no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'devsnap-no-aws-credentials'),
  };
}
