import type { DevsnapConfig } from '../config/devsnap-config.js';
import { resolveSourceConfig } from '../config/resolve-config.js';
import { PostgresIntrospector } from '../schema/postgres-introspector.js';
import { PgSource } from '../source/pg-source.js';
import { planSubset, type SubsetPlan } from './subset-plan.js';

export interface PlanOptions {
  /** postgres:// URL of the source; only read, inside one read-only snapshot. */
  readonly databaseUrl: string;
  readonly config?: DevsnapConfig;
}

/** What `devsnap export` would take with this config, from the catalog and statistics only. */
export async function planExport(options: PlanOptions): Promise<SubsetPlan> {
  const source = await PgSource.connect(options.databaseUrl);
  try {
    const model = await new PostgresIntrospector(source).introspect();
    return await planSubset(source, model, await resolveSourceConfig(source, options.config ?? {}, model));
  } finally {
    await source.close();
  }
}
