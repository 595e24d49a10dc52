import { beginExport, planKey } from '../core/export/begin-export.js';
import { handlerClients } from './handler-clients.js';
import { JsonLogger } from './json-logger.js';

const clients = handlerClients();

/** One Map item: a worker exports these tables of the run's snapshot. */
export interface ExportItem {
  readonly snapshotId: string;
  readonly tables: readonly string[];
  readonly transactionId: string;
  readonly databaseSnapshot: string;
}

export interface PlanResult {
  readonly snapshotId: string;
  readonly planKey: string;
  /** The holder of the database snapshot; finalize ends it. */
  readonly transactionId: string;
  /** Foreign-key levels in order; each level's items run in parallel, one table per item. */
  readonly levels: readonly { readonly level: number; readonly items: readonly ExportItem[] }[];
}

/**
 * Begins a run: holds one database snapshot open for the workers, validates the config against the
 * schema, selects rows, applies the anonymisation gate, writes the schema files and the plan.
 * Returns table names only (the plan itself is in S3), well under the 256 KiB payload limit.
 */
export async function handler(): Promise<PlanResult> {
  const config = await clients.config();
  const held = await clients.holder.begin();
  const log = new JsonLogger({ step: 'plan' });
  const started = performance.now();
  try {
    const source = await clients.openSource(held.snapshot);
    try {
      const plan = await beginExport({
        source,
        store: clients.store,
        config,
        sharedSnapshot: held.snapshot,
        reporter: log.reporter(),
      });
      log.info('planned', {
        snapshotId: plan.snapshotId,
        tables: plan.tables.length,
        levels: plan.levels.length,
        durationMs: Math.round(performance.now() - started),
      });
      return {
        snapshotId: plan.snapshotId,
        planKey: `${clients.store.prefix}${planKey(plan.snapshotId)}`,
        transactionId: held.transactionId,
        levels: plan.levels.map((tables, level) => ({
          level,
          items: tables.map((table) => ({
            snapshotId: plan.snapshotId,
            tables: [table],
            transactionId: held.transactionId,
            databaseSnapshot: held.snapshot,
          })),
        })),
      };
    } finally {
      await source.close();
    }
  } catch (error) {
    log.error('plan-failed', error);
    await clients.holder.end(held.transactionId);
    throw error;
  }
}
