import { readFileSync } from 'node:fs';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { SnapshotBucket } from '../../infra/snapshot-bucket.js';

/** The context `cdk synth` sees from cdk.json, so feature flags and defaults match the deployed template. */
export const cdkContext: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/** The logical id of a construct's CloudFormation resource in its stack's template. */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The policy statements SnapshotBucket.grantRead writes for `snapshots`, as the template shows them. */
export function snapshotReadStatements(snapshots: SnapshotBucket): unknown[] {
  const bucketArn = { 'Fn::GetAtt': [logicalIdOf(snapshots.bucket), 'Arn'] };
  const objectArn = (key: string) => ({ 'Fn::Join': ['', [bucketArn, `/${key}`]] });
  return [
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucketArn,
      Condition: { StringLike: { 's3:prefix': ['snapshots/', 'snapshots/*'] } },
    },
    {
      Effect: 'Allow',
      Action: 's3:GetObject',
      // Published files only: not a run's .work/ (key sets, run keys) nor a failed run's failure.json.
      Resource: [
        objectArn('latest.json'),
        objectArn('snapshots/*/data/*'),
        objectArn('snapshots/*/manifest.json'),
        objectArn('snapshots/*/schema/*'),
        objectArn('snapshots/*/seal.json'),
      ],
    },
    {
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': [logicalIdOf(snapshots.key), 'Arn'] },
    },
  ];
}
