import { UsageError } from '../core/errors.js';

/** Everything the handlers read from their environment, which infra/ sets on each function. */
export interface HandlerEnvironment {
  readonly bucket: string;
  /** Key prefix inside the bucket ('' for the root). */
  readonly prefix: string;
  /**
   * `rds-data` (default): Aurora through the Data API, workers in parallel in one held snapshot.
   * `pg`: a direct connection from inside the VPC; the plan step exports every table itself, in its
   * one transaction, since an exported snapshot dies with the connection that holds it.
   */
  readonly source: 'rds-data' | 'pg';
  readonly clusterArn: string;
  /** Secrets Manager secret with the database credentials, used by the Data API. */
  readonly databaseSecretArn: string;
  readonly database: string;
  /** pg mode: a secret whose value is the postgres:// URL (or the URL itself, for tests). */
  readonly databaseUrlSecretArn: string | undefined;
  readonly databaseUrl: string | undefined;
  /** The team's config file, for handlers run from the sources (tests); Lambda bundles compile it in. */
  readonly configPath: string | undefined;
  /** Retention after a publish: keep this many newest snapshots (unset: keep all, the bucket expires them). */
  readonly keepNewest: number | undefined;
  /** The construct's allowUnverifiedPersonalData: a config may relax anonymisation (`mode: 'warn'`, `verify: false`). */
  readonly allowUnverifiedPersonalData: boolean;
  /** A table with more selected rows than this is exported in parts by parallel workers (unset: 1,000,000). */
  readonly partRows: number | undefined;
  /** The KMS key (ARN) finalize signs each snapshot's seal with; unset: seals are not signed. */
  readonly signingKeyId: string | undefined;
  /** A Data-API-compatible endpoint (tests); unset means AWS's. */
  readonly dataApiEndpoint: string | undefined;
  /**
   * What a source role that can do more than read gets: 'refuse' (default), or 'allow' when the
   * ExportPipeline's allowPrivilegedSourceRole prop says so.
   */
  readonly privilegedSource: 'refuse' | 'allow';
}

/** Reads the handlers' environment once; a missing variable is named, since that is a deploy mistake. */
export function handlerEnvironment(env: NodeJS.ProcessEnv = process.env): HandlerEnvironment {
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new UsageError(`Environment variable ${name} is not set on this function.`, {
        hint: 'infra/ sets it; redeploy with `npx cdk deploy`, or set it on the function by hand.',
      });
    }
    return value;
  };
  const count = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1) {
      throw new UsageError(`Environment variable ${name} must be a whole number >= 1, got "${value}".`, {
        hint: 'infra/ sets it from the ExportPipeline props; fix the prop and redeploy.',
      });
    }
    return number;
  };
  const keepNewest = count('DEVSNAP_KEEP_NEWEST');
  const source = env.DEVSNAP_SOURCE === 'pg' ? 'pg' : 'rds-data';
  const dataApi = (name: string) => (source === 'rds-data' ? required(name) : (env[name] ?? ''));
  const databaseUrl = env.DEVSNAP_DATABASE_URL || undefined;
  return {
    bucket: required('DEVSNAP_BUCKET'),
    prefix: env.DEVSNAP_PREFIX ?? '',
    source,
    clusterArn: dataApi('DEVSNAP_CLUSTER_ARN'),
    databaseSecretArn: dataApi('DEVSNAP_DATABASE_SECRET_ARN'),
    database: dataApi('DEVSNAP_DATABASE'),
    databaseUrl,
    databaseUrlSecretArn:
      source === 'pg' && databaseUrl === undefined ? required('DEVSNAP_DATABASE_URL_SECRET_ARN') : undefined,
    configPath: env.DEVSNAP_CONFIG_PATH || undefined,
    keepNewest,
    allowUnverifiedPersonalData: env.DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA === 'true',
    partRows: count('DEVSNAP_PART_ROWS'),
    signingKeyId: env.DEVSNAP_SIGNING_KEY_ID || undefined,
    dataApiEndpoint: env.DEVSNAP_DATA_API_ENDPOINT || undefined,
    privilegedSource: env.DEVSNAP_ALLOW_PRIVILEGED_SOURCE === 'true' ? 'allow' : 'refuse',
  };
}
