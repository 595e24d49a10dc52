import { errorMessage } from '../errors.js';
import {
  type LatestPointer,
  type Manifest,
  type ManifestTable,
  manifestKey,
  snapshotPrefix,
} from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { applyRetention, type RetentionPolicy, type RetentionResult } from '../store/apply-retention.js';
import { publishLatest } from '../store/publish-latest.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { readExportPlan, workPrefix } from './begin-export.js';
import { type TableFailure, tableFailurePrefix } from './export-tables.js';

export interface FinalizeExportOptions {
  readonly store: SnapshotStore;
  readonly snapshotId: string;
  /**
   * Set when the run failed outside any table (the orchestrator's error, or the plan step's), so
   * nothing is published. `table` names the step when no table is to blame (default `(run)`).
   */
  readonly failure?: { readonly error: string; readonly table?: string };
  /** Applied after a successful publish. */
  readonly retention?: RetentionPolicy;
  readonly reporter?: ProgressReporter;
}

/** What a failed run leaves at `snapshots/<id>/failure.json`. */
export interface ExportFailureRecord {
  readonly snapshotId: string;
  readonly failedAt: string;
  readonly failures: readonly TableFailure[];
}

export type FinalizeResult =
  | {
      readonly status: 'published';
      readonly manifestKey: string;
      readonly latestMoved: boolean;
      readonly totalRows: number;
      readonly totalBytes: number;
      readonly retention: RetentionResult | null;
    }
  | { readonly status: 'failed'; readonly failureKey: string; readonly failures: readonly TableFailure[] };

export const failureKey = (snapshotId: string): string => `${snapshotPrefix(snapshotId)}failure.json`;

/**
 * Last step of a distributed export. When every table has its result and no worker failed: writes
 * manifest.json from the workers' results, then moves latest.json, then applies retention. Otherwise
 * removes the partial data and writes failure.json naming each failed table and its error; `latest`
 * stays where it was.
 */
export async function finalizeExport(options: FinalizeExportOptions): Promise<FinalizeResult> {
  const { store, snapshotId } = options;
  const reporter = options.reporter ?? silentReporter;
  const failures = await readJsonObjects<TableFailure>(store, tableFailurePrefix(snapshotId));
  let published: Awaited<ReturnType<typeof publish>> | undefined;
  if (failures.length === 0 && !options.failure) {
    try {
      published = await publish(store, snapshotId, reporter);
    } catch (error) {
      failures.push({ table: '(finalize)', error: errorMessage(error) });
    }
  }
  if (!published) {
    if (options.failure && failures.length === 0)
      failures.push({ table: options.failure.table ?? '(run)', error: options.failure.error });
    return recordFailure(store, snapshotId, failures);
  }
  let retention: RetentionResult | null = null;
  if (options.retention) {
    // The snapshot is published; a retention problem is reported, not turned into a failed run.
    retention = await applyRetention(store, options.retention, reporter).catch((error: unknown) => {
      reporter.report({ type: 'notice', message: `Retention not applied: ${errorMessage(error)}` });
      return null;
    });
  }
  return { status: 'published', ...published, retention };
}

async function publish(store: SnapshotStore, snapshotId: string, reporter: ProgressReporter) {
  const plan = await readExportPlan(store, snapshotId);
  const { createdAt } = plan;
  const tables = await readTableResults(store, plan.tables, snapshotId);
  {
    const finished = new Date();
    const manifest: Manifest = {
      ...plan.manifestBase,
      tables,
      totals: {
        rows: tables.reduce((sum, table) => sum + table.rows, 0),
        bytes: tables.reduce((sum, table) => sum + table.files.reduce((s, file) => s + file.bytes, 0), 0),
      },
      timings: {
        startedAt: createdAt,
        finishedAt: finished.toISOString(),
        durationMs: finished.getTime() - new Date(createdAt).getTime(),
      },
    };
    reporter.report({ type: 'phase', phase: 'publish', detail: snapshotId });
    const stored = await store.put(manifestKey(snapshotId), `${JSON.stringify(manifest, null, 2)}\n`);
    const latest: LatestPointer = {
      snapshotId,
      manifestKey: stored.key,
      manifestSha256: stored.sha256,
      createdAt,
    };
    const moved = await publishLatest(store, latest, reporter);
    await store.deletePrefix(workPrefix(snapshotId));
    return {
      manifestKey: stored.key,
      latestMoved: moved.moved,
      totalRows: manifest.totals.rows,
      totalBytes: manifest.totals.bytes,
    };
  }
}

async function readTableResults(
  store: SnapshotStore,
  names: readonly string[],
  snapshotId: string,
): Promise<ManifestTable[]> {
  const tables = await readJsonObjects<ManifestTable>(store, `${workPrefix(snapshotId)}tables/`);
  const present = new Set(tables.map((t) => `${t.schema}.${t.name}`));
  const missing = names.filter((name) => !present.has(name));
  if (missing.length > 0) {
    throw new Error(`No export result for ${missing.join(', ')}; the snapshot is incomplete.`);
  }
  // Manifest order is the plan's order (parents first), whatever order the workers finished in.
  const order = new Map(names.map((name, i) => [name, i]));
  return tables.sort(
    (a, b) => (order.get(`${a.schema}.${a.name}`) ?? 0) - (order.get(`${b.schema}.${b.name}`) ?? 0),
  );
}

async function recordFailure(
  store: SnapshotStore,
  snapshotId: string,
  failures: readonly TableFailure[],
): Promise<FinalizeResult> {
  const prefix = snapshotPrefix(snapshotId);
  // Partial data is never imported (there is no manifest), so it goes; the record stays for people.
  await store.deletePrefix(`${prefix}data/`);
  await store.deletePrefix(`${prefix}schema/`);
  await store.deletePrefix(workPrefix(snapshotId));
  const record: ExportFailureRecord = { snapshotId, failedAt: new Date().toISOString(), failures };
  const stored = await store.put(failureKey(snapshotId), `${JSON.stringify(record, null, 2)}\n`);
  return { status: 'failed', failureKey: stored.key, failures };
}

/** Every JSON object under a prefix, read in parallel (one small object per table). */
async function readJsonObjects<T>(store: SnapshotStore, prefix: string): Promise<T[]> {
  const texts = await Promise.all((await store.list(prefix)).map((key) => store.readText(key)));
  return texts.flatMap((text) => (text === null ? [] : [JSON.parse(text) as T]));
}
