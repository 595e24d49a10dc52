import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { loadConfig } from '../core/config/config-loader.js';
import type { DevsnapConfig } from '../core/config/devsnap-config.js';
import { ExportedSnapshotHolder } from '../core/source/exported-snapshot-holder.js';
import { RdsDataSource } from '../core/source/rds-data-source.js';
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
  /** A source reading the run's one database snapshot (the held one, when given). */
  openSource(joinSnapshot?: string): Promise<RdsDataSource>;
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
  return {
    env,
    store: new S3SnapshotStore({ bucket: env.bucket, prefix: env.prefix }),
    dataApi,
    holder: new ExportedSnapshotHolder(target),
    config() {
      config ??= loadConfig(env.configPath).then((loaded) => loaded.config);
      return config;
    },
    openSource(joinSnapshot) {
      return RdsDataSource.connect({
        resourceArn: env.clusterArn,
        secretArn: env.databaseSecretArn,
        database: env.database,
        client: dataApi,
        ...(joinSnapshot ? { joinSnapshot } : {}),
      });
    },
  };
}
