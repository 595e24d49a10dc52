import type { DevsnapConfig } from '../config/devsnap-config.js';
import { resolveSourceConfig } from '../config/resolve-config.js';
import { PostgresIntrospector } from '../schema/postgres-introspector.js';
import { PgSource } from '../source/pg-source.js';
import { checkStrategySql } from './strategy-sql-check.js';
import { planSubset, type SubsetPlan } from './subset-plan.js';

export interface PlanOptions {
  /** postgres:// URL of the source; only read, inside one read-only snapshot. */
  readonly databaseUrl: string;
  readonly config?: DevsnapConfig;
  /** Count exactly while the tables read hold at most this many rows (default 2,000,000); 0 estimates everything. */
  readonly exactReadRows?: number;
}

/** What `devsnap export` would take with this config, from the catalog and statistics only. */
export async function planExport(options: PlanOptions): Promise<SubsetPlan> {
  const source = await PgSource.connect(options.databaseUrl);
  try {
    const model = await new PostgresIntrospector(source).introspect();
    const config = await resolveSourceConfig(source, options.config ?? {}, model);
    await checkStrategySql(source, config);
    return await planSubset(source, model, config, { exactReadRows: options.exactReadRows });
  } finally {
    await source.close();
  }
}
