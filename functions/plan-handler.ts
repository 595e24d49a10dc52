import { errorMessage } from '../core/errors.js';
import { beginExport, type ExportPart, planKey, planParts } from '../core/export/begin-export.js';
import { exportTables } from '../core/export/export-tables.js';
import { finalizeExport } from '../core/export/finalize-export.js';
import { newSnapshotId } from '../core/manifest.js';
import type { HeldSnapshot } from '../core/source/exported-snapshot-holder.js';
import { handlerClients } from './handler-clients.js';
import { JsonLogger } from './json-logger.js';

const clients = handlerClients();

/** What every worker of a run needs besides its part; passed to each Map item, never logged. */
export interface RunContext {
  readonly snapshotId: string;
  /** The holder of the database snapshot (Data API transaction); '' in pg mode. */
  readonly transactionId: string;
  readonly databaseSnapshot: string;
  /** Key for the digests of stored key sets over anonymised columns (see beginExport). */
  readonly digestKey: string;
}

/** One Map item: a worker exports this part of a table in the run's snapshot. */
export interface ExportItem {
  readonly run: RunContext;
  readonly part: ExportPart;
}

export interface PlanResult {
  readonly snapshotId: string;
  readonly planKey: string;
  /** The holder of the database snapshot; finalize ends it. */
  readonly transactionId: string;
  readonly run: RunContext;
  /**
   * Foreign-key levels in order; each level's parts run in parallel. Items are table names and part
   * numbers only (the plan itself is in S3), a few dozen bytes each.
   */
  readonly levels: readonly { readonly level: number; readonly items: readonly ExportPart[] }[];
}

/**
 * Begins a run: holds one database snapshot open for the workers, validates the config against the
 * schema, selects rows, applies the anonymisation gate, writes the schema files and the plan.
 * Returns table names only (the plan itself is in S3), well under the 256 KiB payload limit.
 *
 * pg mode: an exported snapshot lives only as long as the connection that exported it, which ends with
 * this invocation, so this step reads every table in its own one transaction and leaves the Maps no
 * items. The whole export must then fit in one Lambda run (15 minutes).
 */
export async function handler(): Promise<PlanResult> {
  const snapshotId = newSnapshotId();
  const log = new JsonLogger({ step: 'plan', snapshotId });
  const started = performance.now();
  let held: HeldSnapshot | undefined;
  try {
    const config = await clients.config();
    if (clients.env.source !== 'pg') held = await clients.holder.begin();
    const source = await clients.openSource(held?.snapshot);
    try {
      const { plan, digestKey } = await beginExport({
        source,
        store: clients.store,
        config,
        snapshotId,
        ...(held ? { sharedSnapshot: held.snapshot, partRows: clients.env.partRows } : {}),
        reporter: log.reporter(),
      });
      const stored = { snapshotId, planKey: `${clients.store.prefix}${planKey(snapshotId)}` };
      if (!held) {
        await exportTables({
          source,
          store: clients.store,
          config,
          snapshotId,
          parts: planParts(plan),
          digestKey,
          reporter: log.reporter(),
        });
        return {
          ...stored,
          transactionId: '',
          run: { snapshotId, transactionId: '', databaseSnapshot: '', digestKey: '' },
          levels: [],
        };
      }
      const levels = plan.levels.map((tables, level) => ({ level, items: planParts(plan, tables) }));
      log.info('planned', {
        snapshotId,
        tables: plan.tables.length,
        parts: levels.reduce((sum, { items }) => sum + items.length, 0),
        levels: plan.levels.length,
        durationMs: Math.round(performance.now() - started),
      });
      const { transactionId, snapshot } = held;
      return {
        ...stored,
        transactionId,
        run: { snapshotId, transactionId, databaseSnapshot: snapshot, digestKey },
        levels,
      };
    } finally {
      await source.close();
    }
  } catch (error) {
    log.error('plan-failed', error);
    if (held) await clients.holder.end(held.transactionId);
    // The state machine has no snapshot id to finalize with, so the plan step records its own failure.
    await finalizeExport({
      store: clients.store,
      snapshotId,
      failure: { table: '(plan)', error: errorMessage(error) },
    }).catch((recordError: unknown) => log.error('failure-record-failed', recordError));
    throw error;
  }
}
