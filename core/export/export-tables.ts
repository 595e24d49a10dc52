import { errorMessage, UsageError } from '../errors.js';
import type { ManifestTable } from '../manifest.js';
import { snapshotPrefix } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { qualifiedName } from '../schema/schema-model.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import {
  type ExportPlanDocument,
  type ExportStepOptions,
  type PreparedExport,
  prepareExport,
  readExportPlan,
  workPrefix,
} from './begin-export.js';
import type { TableExportSummary } from './export-snapshot.js';
import { exportTable, tableDirectory } from './export-table.js';

export interface ExportTablesOptions extends ExportStepOptions {
  readonly snapshotId: string;
  /** `schema.table` names, from one level of the plan. */
  readonly tables: readonly string[];
}

export interface TableExportResult extends TableExportSummary {
  /** Where the table's manifest entry was written, for finalizeExport. */
  readonly resultKey: string;
}

/** What a failed worker leaves for finalizeExport: which table and what went wrong. */
export interface TableFailure {
  readonly table: string;
  readonly error: string;
}

export const tableResultKey = (snapshotId: string, directory: string): string =>
  `${workPrefix(snapshotId)}tables/${directory}.json`;
export const tableFailurePrefix = (snapshotId: string): string => `${workPrefix(snapshotId)}failures/`;

/**
 * One worker's share of a distributed export: writes the Parquet data of the given tables and, per
 * table, its manifest entry under `.work/tables/`. The source must read the plan's snapshot (join
 * `plan.sharedSnapshot`). The worker selects the rows again itself: strategies are deterministic
 * (seeded samples, ordered limits), so inside the same database snapshot every worker arrives at the
 * selection the plan step made. A failing table leaves a record under `.work/failures/` naming the
 * table and the error, then the error propagates.
 */
export async function exportTables(options: ExportTablesOptions): Promise<TableExportResult[]> {
  const { store, snapshotId } = options;
  const plan = await readExportPlan(store, snapshotId);
  let prepared: PreparedExport;
  try {
    prepared = await prepareExport(options);
    if (prepared.config.hash !== plan.configHash) {
      throw new UsageError(
        `The config changed during export ${snapshotId} (hash ${prepared.config.hash}, the plan used ${plan.configHash}).`,
        { hint: 'A deploy happened mid-run; the next scheduled run uses the new config.' },
      );
    }
  } catch (error) {
    // The worker's tables could not be started; each is named in the failure record.
    for (const table of options.tables) await recordTableFailure(store, snapshotId, table, error);
    throw error;
  }
  return exportPreparedTables(prepared, plan, { ...options, tables: options.tables });
}

/**
 * Exports tables of a prepared export (its selection and anonymiser already built inside the
 * plan's snapshot): per table the Parquet data and its manifest entry under `.work/tables/`.
 */
export async function exportPreparedTables(
  prepared: PreparedExport,
  plan: ExportPlanDocument,
  options: {
    readonly store: SnapshotStore;
    readonly tables: readonly string[];
    readonly reporter?: ProgressReporter;
  },
): Promise<TableExportResult[]> {
  const { store } = options;
  const { snapshotId } = plan;
  const reporter = options.reporter ?? silentReporter;
  const results: TableExportResult[] = [];
  for (const name of options.tables) {
    const table = prepared.config.tables.get(name)?.table;
    try {
      if (!table) {
        throw new UsageError(`${name} is not an exported table of this config.`, {
          hint: 'The state machine passes the table names the plan step wrote; start a new run.',
        });
      }
      const entry: ManifestTable = await exportTable(
        {
          ...prepared,
          store,
          reporter,
        },
        table,
        snapshotPrefix(snapshotId),
      );
      const resultKey = tableResultKey(snapshotId, tableDirectory(table));
      await store.put(resultKey, JSON.stringify(entry));
      results.push({
        table: qualifiedName(table),
        rows: entry.rows,
        bytes: entry.files.reduce((sum, file) => sum + file.bytes, 0),
        durationMs: entry.durationMs,
        resultKey,
      });
    } catch (error) {
      await recordTableFailure(store, snapshotId, name, error);
      throw error;
    }
  }
  return results;
}

async function recordTableFailure(
  store: SnapshotStore,
  snapshotId: string,
  table: string,
  error: unknown,
): Promise<void> {
  const failure: TableFailure = { table, error: errorMessage(error) };
  const key = `${tableFailurePrefix(snapshotId)}${encodeURIComponent(table)}.json`;
  await store.put(key, JSON.stringify(failure)).catch(() => {});
}
