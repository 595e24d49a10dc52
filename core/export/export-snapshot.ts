import type { SecretsManagerReader } from '../anonymise/anonymise-secret.js';
import type { DevsnapConfig } from '../config/devsnap-config.js';
import { DevsnapError, errorMessage, UsageError } from '../errors.js';
import { newSnapshotId, snapshotPrefix } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { PgSource } from '../source/pg-source.js';
import type { Source } from '../source/source.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { planParts, prepareExport, writeExportPlan } from './begin-export.js';
import { exportPreparedTables } from './export-tables.js';
import { finalizeExport } from './finalize-export.js';

export interface ExportOptions {
  /** postgres:// URL of the source; devsnap only ever reads from it. Ignored when `source` is given. */
  readonly databaseUrl?: string;
  /**
   * Opens the source instead of connecting to `databaseUrl` (e.g. an RdsDataSource). The export
   * closes what it opens here; pass a function so that the export owns the source's whole life.
   */
  readonly source?: () => Promise<Source>;
  readonly store: SnapshotStore;
  readonly reporter?: ProgressReporter;
  /** Defaults to a new time-sortable id. */
  readonly snapshotId?: string;
  /** Strategies, foreign-key policies and anonymisation rules; every table in full when absent. */
  readonly config?: DevsnapConfig;
  /** Environment for `anonymise.secret: { env }` (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Secrets Manager access for `anonymise.secret: { secretsManager }` (default: the AWS SDK). */
  readonly secretsManager?: SecretsManagerReader;
}

export interface TableExportSummary {
  /** `schema.table` */
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
}

export interface ExportResult {
  readonly snapshotId: string;
  readonly tables: readonly TableExportSummary[];
  readonly totalRows: number;
  readonly totalBytes: number;
  readonly durationMs: number;
}

/**
 * Reads every table of the source inside one read-only snapshot and publishes a snapshot:
 * schema files and Parquet data first, then manifest.json, then latest.json. A run that fails
 * removes what it wrote and never moves `latest`.
 */
export async function exportSnapshot(options: ExportOptions): Promise<ExportResult> {
  const { store } = options;
  const reporter = options.reporter ?? silentReporter;
  const snapshotId = options.snapshotId ?? newSnapshotId();
  const started = performance.now();
  const source = await openSource(options);
  try {
    // The same steps as the serverless pipeline, in one process and one transaction. The
    // anonymisation gate (in prepareExport) refuses before anything is written.
    const prepared = await prepareExport({ ...options, source });
    const plan = await writeExportPlan(prepared, { store, snapshotId, sharedSnapshot: null });
    const tables = await exportPreparedTables(prepared, plan, { store, parts: planParts(plan), reporter });
    const finalized = await finalizeExport({ store, snapshotId, reporter });
    if (finalized.status === 'failed') {
      const reasons = finalized.failures.map((failure) => `${failure.table}: ${failure.error}`).join('; ');
      throw new DevsnapError(`Export ${snapshotId} was not published: ${reasons}`);
    }
    return {
      snapshotId,
      tables: tables.map(({ table, rows, bytes, durationMs }) => ({ table, rows, bytes, durationMs })),
      totalRows: finalized.totalRows,
      totalBytes: finalized.totalBytes,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    await store.deletePrefix(snapshotPrefix(snapshotId)).catch((cleanupError: unknown) => {
      reporter.report({
        type: 'notice',
        message: `Could not remove the incomplete snapshot ${snapshotId}: ${errorMessage(cleanupError)}`,
      });
    });
    throw error;
  } finally {
    await source.close();
  }
}

function openSource(options: ExportOptions): Promise<Source> {
  if (options.source) return options.source();
  if (options.databaseUrl === undefined) {
    throw new UsageError('No source database given.', {
      hint: 'Pass --database-url postgres://user:password@host:5432/db (or set DEVSNAP_DATABASE_URL).',
    });
  }
  return PgSource.connect(options.databaseUrl);
}
