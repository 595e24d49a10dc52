import type { SecretsManagerReader } from '../anonymise/anonymise-secret.js';
import { type CleanupRegistry, noCleanup } from '../cleanup-registry.js';
import type { DevsnapConfig } from '../config/devsnap-config.js';
import { DevsnapError, errorMessage, UsageError } from '../errors.js';
import { readLatestPointer } from '../import/snapshot-reader.js';
import { newSnapshotId, snapshotPrefix } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { PgSource } from '../source/pg-source.js';
import type { Source } from '../source/source.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { writeGate } from '../store/write-gate.js';
import type { SnapshotSigner } from '../trust/snapshot-seal.js';
import { beginExport, planParts, prepareExport, writeExportPlan } from './begin-export.js';
import { exportPreparedTables, prepareWorker, type TableExportResult } from './export-tables.js';
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
  /**
   * Connections reading table parts at once, all in the snapshot of the first (default 1). Only for
   * a direct connection (`databaseUrl`); the pipeline's own steps run in this one process.
   */
  readonly jobs?: number;
  /** Records the snapshot folder being written, for an interrupted run to remove (the CLI's Ctrl-C). */
  readonly cleanup?: CleanupRegistry;
  /** With jobs > 1: a table with more selected rows than this is read in key ranges by several jobs. */
  readonly partRows?: number;
  /** Signs the snapshot's seal; without it the seal carries the digest chain only. */
  readonly signer?: SnapshotSigner;
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
export async function exportSnapshot(given: ExportOptions): Promise<ExportResult> {
  const gate = writeGate(given.store);
  const store = gate.store;
  const options: ExportOptions = { ...given, store };
  const reporter = options.reporter ?? silentReporter;
  const snapshotId = options.snapshotId ?? newSnapshotId();
  const started = performance.now();
  const source = await openSource(options);
  // Interrupted: no more writes, then the folder goes unless latest.json already names it (then
  // it is complete).
  const forget = (options.cleanup ?? noCleanup).add(async () => {
    gate.close();
    if ((await readLatestPointer(store).catch(() => null))?.snapshotId === snapshotId) return undefined;
    await store.deletePrefix(snapshotPrefix(snapshotId));
    return `removed the incomplete snapshot ${snapshotId} from ${store.location}`;
  });
  try {
    // The same steps as the serverless pipeline. The anonymisation gate (in prepareExport, or in
    // beginExport) refuses before anything is written.
    const jobs = options.jobs ?? 1;
    const parts =
      jobs > 1 && source instanceof PgSource && options.databaseUrl !== undefined
        ? await exportInParallel(source, options.databaseUrl, jobs, { ...options, snapshotId, reporter })
        : await exportInOneTransaction(source, { ...options, snapshotId, reporter });
    const finalized = await finalizeExport({ store, snapshotId, reporter, signer: options.signer });
    if (finalized.status === 'failed') {
      const reasons = finalized.failures.map((failure) => `${failure.table}: ${failure.error}`).join('; ');
      throw new DevsnapError(`Export ${snapshotId} was not published: ${reasons}`);
    }
    return {
      snapshotId,
      tables: joinParts(parts),
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
    forget();
    await source.close();
  }
}

type ExportRun = ExportOptions & { readonly snapshotId: string; readonly reporter: ProgressReporter };

/** Every table through one source, in its one transaction. */
async function exportInOneTransaction(source: Source, run: ExportRun): Promise<TableExportResult[]> {
  const prepared = await prepareExport({ ...run, source });
  const plan = await writeExportPlan(prepared, { ...run, sharedSnapshot: null });
  return exportPreparedTables(prepared, plan, { ...run, parts: planParts(plan) });
}

/**
 * `jobs` connections export table parts at once, each joined to the snapshot `source` exports and
 * holds until the end, level by level as the state machine runs them.
 */
async function exportInParallel(
  source: PgSource,
  url: string,
  jobs: number,
  run: ExportRun,
): Promise<TableExportResult[]> {
  const { store, snapshotId, reporter } = run;
  const sharedSnapshot = await source.exportSnapshot();
  const { plan, digestKey } = await beginExport({ ...run, source, sharedSnapshot });
  const workers: PgSource[] = [];
  try {
    for (let i = 0; i < Math.min(jobs, planParts(plan).length); i++) {
      workers.push(await PgSource.connect(url, { snapshot: sharedSnapshot }));
    }
    // The plan reported the gate's findings; the workers prepare quietly.
    const prepared = await Promise.all(
      workers.map((worker) =>
        prepareWorker({ ...run, source: worker, digestKey, reporter: silentReporter }, plan.tables),
      ),
    );
    const results: TableExportResult[] = [];
    const retries = { store, snapshotId, digestKey };
    for (const level of plan.levels) {
      const queue = planParts(plan, level);
      const outcomes = await Promise.allSettled(
        prepared.map(async (worker) => {
          for (let part = queue.shift(); part; part = queue.shift()) {
            const parts = [part];
            try {
              results.push(
                ...(await exportPreparedTables(worker.prepared, plan, { store, parts, reporter, retries })),
              );
            } catch (error) {
              queue.length = 0; // the others finish their part and stop
              throw error;
            }
          }
        }),
      );
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    }
    // In the plan's order, as one connection would have written them.
    const order = new Map(planParts(plan).map(({ table, part }, i) => [`${table}#${part}`, i]));
    const position = ({ table, part }: TableExportResult) => order.get(`${table}#${part}`) ?? 0;
    return results.sort((a, b) => position(a) - position(b));
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

/** One summary per table, its parts added up, in the order the tables were exported. */
function joinParts(parts: readonly TableExportResult[]): TableExportSummary[] {
  const tables = new Map<string, TableExportSummary>();
  for (const { table, rows, bytes, durationMs } of parts) {
    const seen = tables.get(table);
    tables.set(
      table,
      seen
        ? {
            table,
            rows: seen.rows + rows,
            bytes: seen.bytes + bytes,
            durationMs: seen.durationMs + durationMs,
          }
        : { table, rows, bytes, durationMs },
    );
  }
  return [...tables.values()];
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
