import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { sdkSecretsManagerReader } from '../core/anonymise/anonymise-secret.js';
import { checkPipelineConfig } from '../core/anonymise/pipeline-policy.js';
import type { DevsnapConfig } from '../core/config/devsnap-config.js';
import { ExportedSnapshotHolder } from '../core/source/exported-snapshot-holder.js';
import { PgSource } from '../core/source/pg-source.js';
import { RdsDataSource } from '../core/source/rds-data-source.js';
import type { Source } from '../core/source/source.js';
import { S3SnapshotStore } from '../core/store/s3-snapshot-store.js';
import { handlerConfig } from './handler-config.js';
import { type HandlerEnvironment, handlerEnvironment } from './handler-environment.js';

/** What every handler shares, created once per Lambda container (module scope of each handler). */
export interface HandlerClients {
  readonly env: HandlerEnvironment;
  readonly store: S3SnapshotStore;
  readonly dataApi: RDSDataClient;
  readonly holder: ExportedSnapshotHolder;
  /** The team's devsnap.config.ts, compiled into the bundle at deploy time; loaded on first use. */
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
      config ??= handlerConfig(env.configPath).then((loaded) => {
        checkPipelineConfig(loaded.anonymise, env.allowUnverifiedPersonalData);
        return loaded;
      });
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
