import { pathToFileURL } from 'node:url';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { sdkSecretsManagerReader } from '../core/anonymise/anonymise-secret.js';
import { loadConfig } from '../core/config/config-loader.js';
import type { DevsnapConfig } from '../core/config/devsnap-config.js';
import { UsageError } from '../core/errors.js';
import { ExportedSnapshotHolder } from '../core/source/exported-snapshot-holder.js';
import { PgSource } from '../core/source/pg-source.js';
import { RdsDataSource } from '../core/source/rds-data-source.js';
import type { Source } from '../core/source/source.js';
import { S3SnapshotStore } from '../core/store/s3-snapshot-store.js';
import { type HandlerEnvironment, handlerEnvironment } from './handler-environment.js';

/** What every handler shares, created once per Lambda container (module scope of each handler). */
export interface HandlerClients {
  readonly env: HandlerEnvironment;
  readonly store: S3SnapshotStore;
  readonly dataApi: RDSDataClient;
  readonly holder: ExportedSnapshotHolder;
  /** The team's devsnap.config.ts as bundled at deploy time; loaded on first use. */
  config(): Promise<DevsnapConfig>;
  /** A source reading the run's one database snapshot (the held one, when given; pg mode: its own). */
  openSource(joinSnapshot?: string): Promise<Source>;
}

export function handlerClients(): HandlerClients {
  const env = handlerEnvironment();
  const dataApi = new RDSDataClient(env.dataApiEndpoint ? { endpoint: env.dataApiEndpoint } : {});
  const target = {
    client: dataApi,
    resourceArn: env.clusterArn,
    secretArn: env.databaseSecretArn,
    database: env.database,
  };
  let config: Promise<DevsnapConfig> | undefined;
  let databaseUrl: Promise<string> | undefined;
  return {
    env,
    store: new S3SnapshotStore({ bucket: env.bucket, prefix: env.prefix }),
    dataApi,
    holder: new ExportedSnapshotHolder(target),
    config() {
      config ??= loadHandlerConfig(env.configPath);
      return config;
    },
    async openSource(joinSnapshot) {
      if (env.source === 'pg') {
        databaseUrl ??= env.databaseUrl
          ? Promise.resolve(env.databaseUrl)
          : readSecretString(env.databaseUrlSecretArn as string);
        return PgSource.connect(await databaseUrl);
      }
      return RdsDataSource.connect({ ...target, ...(joinSnapshot ? { joinSnapshot } : {}) });
    },
  };
}

async function readSecretString(secretId: string): Promise<string> {
  const secret = await (await sdkSecretsManagerReader()).getSecretString(secretId, undefined);
  if (!secret) throw new Error(`Secret ${secretId} has no string value (expected a postgres:// URL).`);
  return secret;
}

/**
 * On Lambda the config was compiled at deploy time into a plain ES module beside the handler, which
 * Node imports as it is (there is no esbuild on Lambda); tests point at the .ts file itself.
 */
async function loadHandlerConfig(path: string): Promise<DevsnapConfig> {
  if (!path.endsWith('.mjs')) return (await loadConfig(path)).config;
  const module = (await import(pathToFileURL(path).href)) as {
    default?: DevsnapConfig;
    config?: DevsnapConfig;
  };
  const config = module.default ?? module.config;
  if (!config) throw new UsageError(`The bundled config ${path} exports no config.`);
  return config;
}
