import { errorMessage, StoreError, UsageError } from '../errors.js';
import { type ManifestTable, snapshotPrefix, tableDataDirectory } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { qualifiedName } from '../schema/schema-model.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { ForeignKeyGraph } from '../subset/foreign-key-graph.js';
import {
  type ExportPart,
  type ExportPlanDocument,
  type ExportStepOptions,
  knownValuesKey,
  type PreparedExport,
  prepareWith,
  readExportPlan,
  selectionPrefix,
  workPrefix,
} from './begin-export.js';
import type { TableExportSummary } from './export-snapshot.js';
import { exportTable, partName } from './export-table.js';
import { loadRetries, type SharedRetries, storeRetries } from './shared-retries.js';
import { loadSelection } from './stored-selection.js';

export interface ExportTablesOptions extends ExportStepOptions {
  readonly snapshotId: string;
  /** Parts of tables from one level of the plan. */
  readonly parts: readonly ExportPart[];
  /** The run's digest key, from beginExport. */
  readonly digestKey: string;
}

export interface TableExportResult extends TableExportSummary {
  readonly part: number;
  /** Where the part's manifest entry was written, for finalizeExport. */
  readonly resultKey: string;
}

/** What a failed worker leaves for finalizeExport: which table and what went wrong. */
export interface TableFailure {
  readonly table: string;
  readonly error: string;
}

/** The results of a table's parts sit under one prefix, named so that they list in part order. */
export const tableResultPrefix = (snapshotId: string, directory: string): string =>
  `${workPrefix(snapshotId)}tables/${directory}/`;
export const tableFailurePrefix = (snapshotId: string): string => `${workPrefix(snapshotId)}failures/`;

/**
 * One worker's share of a distributed export: writes the Parquet data of the given table parts and,
 * per part, its manifest entry under `.work/tables/`. The source must read the plan's snapshot (join
 * `plan.sharedSnapshot`); the rows come from the selection the plan step stored, so the worker reads
 * only the key sets its tables need. A failing part leaves a record under `.work/failures/` naming
 * the table and the error, then the error propagates.
 */
export async function exportTables(options: ExportTablesOptions): Promise<TableExportResult[]> {
  const { store, snapshotId } = options;
  let worker: Awaited<ReturnType<typeof prepareWorker>>;
  try {
    // The plan step applied the gate to every table; a worker samples only its own.
    worker = await prepareWorker(
      options,
      options.parts.map((part) => part.table),
    );
  } catch (error) {
    // The worker's tables could not be started; each is named in the failure record.
    for (const part of options.parts) await recordTableFailure(store, snapshotId, part, error);
    throw error;
  }
  return exportPreparedTables(worker.prepared, worker.plan, {
    ...options,
    retries: { store, snapshotId, digestKey: options.digestKey },
  });
}

/**
 * What a worker builds once before exporting parts: the plan, and the export prepared over the
 * plan step's stored selection, with values sampled from `sampleTables` only.
 */
export async function prepareWorker(
  options: ExportStepOptions & { readonly snapshotId: string; readonly digestKey: string },
  sampleTables: readonly string[],
): Promise<{ readonly prepared: PreparedExport; readonly plan: ExportPlanDocument }> {
  const { store, snapshotId } = options;
  const plan = await readExportPlan(store, snapshotId);
  const prepared = await prepareWith(
    options,
    (model, config) =>
      loadSelection(options.source, ForeignKeyGraph.build(model, config), {
        store,
        prefix: selectionPrefix(snapshotId),
        digestKey: options.digestKey,
      }),
    sampleTables,
    { runKey: options.digestKey, stored: () => readStored(store, knownValuesKey(snapshotId)) },
  );
  if (prepared.config.hash !== plan.configHash) {
    throw new UsageError(
      `The config changed during export ${snapshotId} (hash ${prepared.config.hash}, the plan used ${plan.configHash}).`,
      { hint: 'A deploy happened mid-run; the next scheduled run uses the new config.' },
    );
  }
  return { prepared, plan };
}

/**
 * Exports table parts of a prepared export (its selection and anonymiser built inside the plan's
 * snapshot): per part the Parquet data and its manifest entry under `.work/tables/`.
 */
export async function exportPreparedTables(
  prepared: PreparedExport,
  plan: ExportPlanDocument,
  options: {
    readonly store: SnapshotStore;
    readonly parts: readonly ExportPart[];
    readonly reporter?: ProgressReporter;
    /** Set when other processes export other tables (see SharedRetries). */
    readonly retries?: SharedRetries;
  },
): Promise<TableExportResult[]> {
  const { store } = options;
  const { snapshotId } = plan;
  const reporter = options.reporter ?? silentReporter;
  const results: TableExportResult[] = [];
  for (const item of options.parts) {
    const table = prepared.config.tables.get(item.table)?.table;
    const ranges = plan.ranges[item.table];
    try {
      if (!table || item.part >= (ranges?.length ?? 1)) {
        throw new UsageError(`${item.table} part ${item.part} is not in the plan of export ${snapshotId}.`, {
          hint: 'The state machine passes the parts the plan step wrote; start a new run.',
        });
      }
      if (options.retries) await loadRetries(prepared.anonymiser, table, options.retries);
      const entry: ManifestTable = await exportTable({ ...prepared, store, reporter }, table, {
        prefix: snapshotPrefix(snapshotId),
        part: item.part,
        range: ranges?.[item.part],
      });
      if (options.retries) await storeRetries(prepared.anonymiser, table, options.retries);
      const resultKey = `${tableResultPrefix(snapshotId, tableDataDirectory(table))}${partName(item.part)}.json`;
      await store.put(resultKey, JSON.stringify(entry));
      results.push({
        table: qualifiedName(table),
        part: item.part,
        rows: entry.rows,
        bytes: entry.files.reduce((sum, file) => sum + file.bytes, 0),
        durationMs: entry.durationMs,
        resultKey,
      });
    } catch (error) {
      await recordTableFailure(store, snapshotId, item, error);
      throw error;
    }
  }
  return results;
}

async function recordTableFailure(
  store: SnapshotStore,
  snapshotId: string,
  { table, part }: ExportPart,
  error: unknown,
): Promise<void> {
  const failure: TableFailure = { table, error: errorMessage(error) };
  const key = `${tableFailurePrefix(snapshotId)}${encodeURIComponent(table)}.${partName(part)}.json`;
  await store.put(key, JSON.stringify(failure)).catch(() => {});
}

/** A stored file's bytes, or null when it cannot be read (the caller says what is missing). */
async function readStored(store: SnapshotStore, key: string): Promise<Uint8Array | null> {
  try {
    const chunks: Uint8Array[] = [];
    for await (const chunk of await store.get(key)) chunks.push(chunk);
    return Buffer.concat(chunks);
  } catch (error) {
    if (error instanceof StoreError) return null;
    throw error;
  }
}
