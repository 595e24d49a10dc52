import { UsageError } from '../core/errors.js';

/** Everything the handlers read from their environment, which infra/ sets on each function. */
export interface HandlerEnvironment {
  readonly bucket: string;
  /** Key prefix inside the bucket ('' for the root). */
  readonly prefix: string;
  readonly clusterArn: string;
  /** Secrets Manager secret with the database credentials, used by the Data API. */
  readonly databaseSecretArn: string;
  readonly database: string;
  /** The team's config module, bundled beside the handler at deploy time. */
  readonly configPath: string;
  /** Retention after a publish: keep this many newest snapshots (unset: keep all, the bucket expires them). */
  readonly keepNewest: number | undefined;
  /** A Data-API-compatible endpoint (tests); unset means AWS's. */
  readonly dataApiEndpoint: string | undefined;
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
  const keepNewest = env.DEVSNAP_KEEP_NEWEST ? Number(env.DEVSNAP_KEEP_NEWEST) : undefined;
  return {
    bucket: required('DEVSNAP_BUCKET'),
    prefix: env.DEVSNAP_PREFIX ?? '',
    clusterArn: required('DEVSNAP_CLUSTER_ARN'),
    databaseSecretArn: required('DEVSNAP_DATABASE_SECRET_ARN'),
    database: required('DEVSNAP_DATABASE'),
    configPath: required('DEVSNAP_CONFIG_PATH'),
    keepNewest,
    dataApiEndpoint: env.DEVSNAP_DATA_API_ENDPOINT || undefined,
  };
}
