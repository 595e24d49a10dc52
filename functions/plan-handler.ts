import { errorMessage } from '../core/errors.js';
import { beginExport, type ExportPart, planKey, planParts, workPrefix } from '../core/export/begin-export.js';
import { exportTables } from '../core/export/export-tables.js';
import { writeFailureRecord } from '../core/export/finalize-export.js';
import { newSnapshotId } from '../core/manifest.js';
import type { HeldSnapshot } from '../core/source/exported-snapshot-holder.js';
import { handlerClients } from './handler-clients.js';
import { JsonLogger } from './json-logger.js';

const clients = handlerClients();

/**
 * What travels with every Map item: a reference to the run, never a key. Step Functions keeps
 * payloads in its execution history, which more people can read than the run's own files.
 */
export interface RunContext {
  readonly snapshotId: string;
}

/**
 * What workers need besides their part, stored at `.work/run.json` (readable by the pipeline's
 * roles only, deleted by finalize) instead of in the payload.
 */
export interface RunSecrets {
  /** The holder of the database snapshot (Data API transaction). */
  readonly transactionId: string;
  readonly databaseSnapshot: string;
  /** Key for the digests of stored key sets over anonymised columns (see beginExport). */
  readonly digestKey: string;
}

export const runKey = (snapshotId: string): string => `${workPrefix(snapshotId)}run.json`;

/** One Map item: a worker exports this part of a table in the run's snapshot. */
export interface ExportItem {
  readonly run: RunContext;
  readonly part: ExportPart;
}

export interface PlanResult {
  readonly snapshotId: string;
  readonly planKey: string;
  readonly run: RunContext;
  /**
   * Foreign-key levels in order; each level's parts run in parallel. Items are table names and part
   * numbers only (the plan itself is in S3), a few dozen bytes each.
   */
  readonly levels: readonly { readonly level: number; readonly items: readonly ExportPart[] }[];
}

/** `{}` begins a run; `{ release: snapshotId }` ends the run's held database snapshot. */
export interface PlanEvent {
  readonly release?: string;
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
export async function handler(event: PlanEvent = {}): Promise<PlanResult> {
  if (event.release !== undefined) return release(event.release);
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
        privilegedSource: clients.env.privilegedSource,
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
          // Checked once above, in this same transaction.
          privilegedSource: 'allow',
          reporter: log.reporter(),
        });
        return { ...stored, run: { snapshotId }, levels: [] };
      }
      const levels = plan.levels.map((tables, level) => ({ level, items: planParts(plan, tables) }));
      log.info('planned', {
        snapshotId,
        tables: plan.tables.length,
        parts: levels.reduce((sum, { items }) => sum + items.length, 0),
        levels: plan.levels.length,
        durationMs: Math.round(performance.now() - started),
      });
      const secrets: RunSecrets = {
        transactionId: held.transactionId,
        databaseSnapshot: held.snapshot,
        digestKey,
      };
      await clients.store.put(runKey(snapshotId), JSON.stringify(secrets));
      // The holder is not ended here: the workers keep it alive, and once they stop it expires (3 minutes).
      return { ...stored, run: { snapshotId }, levels };
    } finally {
      await source.close();
    }
  } catch (error) {
    log.error('plan-failed', error);
    if (held) await clients.holder.end(held.transactionId);
    // The state machine has no snapshot id to finalize with, so the plan step records its own
    // failure. It deletes nothing (it may not): files it wrote expire with the bucket's lifecycle.
    await writeFailureRecord(clients.store, snapshotId, [
      { table: '(plan)', error: errorMessage(error) },
    ]).catch((recordError: unknown) => log.error('failure-record-failed', recordError));
    throw error;
  }
}

/**
 * Ends the database snapshot a run held, once its workers are done (or failed): the plan function
 * began it and keeps the only database access among the steps that follow, so finalize needs none.
 * pg mode holds nothing between steps. Returns the run's reference unchanged.
 */
async function release(snapshotId: string): Promise<PlanResult> {
  const text = await clients.store.readText(runKey(snapshotId));
  if (text !== null) await clients.holder.end((JSON.parse(text) as RunSecrets).transactionId);
  return {
    snapshotId,
    planKey: `${clients.store.prefix}${planKey(snapshotId)}`,
    run: { snapshotId },
    levels: [],
  };
}
