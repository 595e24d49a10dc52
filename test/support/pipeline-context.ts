import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export const PIPELINE_ARNS = {
  CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:prod',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-db-AbCdEf',
  ANONYMISE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:devsnap-key-XyZ123',
} as const;

/** The context a deploy passes with `-c`, for the infra tests and the whole-template snapshot. */
export const pipelineContext: Record<string, unknown> = {
  'devsnap:clusterArn': PIPELINE_ARNS.CLUSTER_ARN,
  'devsnap:databaseSecretArn': PIPELINE_ARNS.DB_SECRET_ARN,
  'devsnap:anonymiseSecretArn': PIPELINE_ARNS.ANONYMISE_SECRET_ARN,
  'devsnap:database': 'app',
  'devsnap:configPath': join(repoRoot, 'test/fixtures/pipeline.config.ts'),
};
