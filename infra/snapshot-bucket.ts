import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Where snapshots live in the bucket; the layout is the contract between export and import (DESIGN.md). */
const SNAPSHOTS_PREFIX = 'snapshots/';
const LATEST_KEY = 'latest.json';
/** `devsnap share` documents: presigned URLs, which last 7 days at most. */
const SHARES_PREFIX = 'shares/';
const SHARE_DAYS = 8;
/** What a published snapshot consists of: not its run's .work/ files, not a failed run's failure.json. */
const PUBLISHED_OBJECTS = [
  `${SNAPSHOTS_PREFIX}*/manifest.json`,
  `${SNAPSHOTS_PREFIX}*/seal.json`,
  `${SNAPSHOTS_PREFIX}*/schema/*`,
  `${SNAPSHOTS_PREFIX}*/data/*`,
];

export interface SnapshotBucketProps {
  /**
   * Days a snapshot stays in the bucket. Old snapshots are anonymised but still shaped like production,
   * so keep only as many as developers need to go back a few nights.
   * @default 14
   */
  readonly retainSnapshotsDays?: number;
  /**
   * Days an overwritten or deleted object stays recoverable as a noncurrent version
   * (mostly old `latest.json` pointers and expired snapshots).
   * @default 7
   */
  readonly noncurrentVersionDays?: number;
  /**
   * Encrypt with this key instead of a new one, for accounts that manage keys centrally.
   * @default - a new customer-managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The private, encrypted bucket that nightly exports write snapshots to and developers pull from.
 * Both the bucket and a key created here are retained on stack deletion: the snapshots are unreadable
 * without the key, and deleting a stack should never be how data disappears.
 */
export class SnapshotBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: SnapshotBucketProps = {}) {
    super(scope, id);
    const retainSnapshotsDays = props.retainSnapshotsDays ?? 14;
    const noncurrentVersionDays = props.noncurrentVersionDays ?? 7;
    assertWholeDays(this, 'retainSnapshotsDays', retainSnapshotsDays);
    assertWholeDays(this, 'noncurrentVersionDays', noncurrentVersionDays);

    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Encrypts devsnap snapshots',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket instead of per object: a snapshot has many Parquet parts, and
      // per-object KMS calls would cost money and hit KMS request quotas on export and pull.
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Versioning lets a bad run's `latest.json` or an accidental delete be undone.
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'ExpireSnapshots', prefix: SNAPSHOTS_PREFIX, expiration: Duration.days(retainSnapshotsDays) },
        // A share's URLs are dead after 7 days; its document goes a day later.
        { id: 'ExpireShares', prefix: SHARES_PREFIX, expiration: Duration.days(SHARE_DAYS) },
        {
          id: 'CleanUpVersionsAndUploads',
          noncurrentVersionExpiration: Duration.days(noncurrentVersionDays),
          expiredObjectDeleteMarker: true,
          // A Lambda that times out mid-upload leaves parts that are billed but never visible.
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * What `devsnap pull` needs and nothing more: list snapshots, read published ones (manifest, schema,
   * data) and the `latest.json` pointer, decrypt. Not a run's `.work/` files (key sets, run keys) nor
   * `failure.json` (errors), no write or delete, nothing else a later version may keep in the bucket.
   * Listing is limited to `snapshots/`, so before the first export a missing `latest.json` reads as 403.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const list = iam.Grant.addToPrincipalOrResource({
      grantee,
      resource: this.bucket,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [SNAPSHOTS_PREFIX, `${SNAPSHOTS_PREFIX}*`] } },
    });
    const get = iam.Grant.addToPrincipalOrResource({
      grantee,
      resource: this.bucket,
      actions: ['s3:GetObject'],
      resourceArns: [...PUBLISHED_OBJECTS, LATEST_KEY].map((key) => this.bucket.arnForObjects(key)),
    });
    return list.combine(get).combine(this.key.grantDecrypt(grantee));
  }

  /**
   * What `devsnap share` needs on top of grantRead: write a share document under `shares/` and read it
   * back through the presigned URL it prints (signed with the sharer's own credentials).
   */
  grantShare(grantee: iam.IGrantable): iam.Grant {
    const share = iam.Grant.addToPrincipalOrResource({
      grantee,
      resource: this.bucket,
      actions: ['s3:PutObject', 's3:GetObject'],
      resourceArns: [this.bucket.arnForObjects(`${SHARES_PREFIX}*`)],
    });
    return share.combine(this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey'));
  }
}

function assertWholeDays(scope: Construct, name: string, days: number): void {
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(`${scope.node.path}: ${name} must be a whole number of days >= 1, got ${days}`);
  }
}
