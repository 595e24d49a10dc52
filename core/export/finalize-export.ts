import { joinVerifiedColumns, unallowedHits } from '../anonymise/verification-record.js';
import { errorMessage } from '../errors.js';
import {
  type LatestPointer,
  type Manifest,
  type ManifestTable,
  manifestKey,
  parseManifest,
  snapshotPrefix,
} from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { knownSecrets, redactSecrets } from '../redact-secrets.js';
import { applyRetention, type RetentionPolicy, type RetentionResult } from '../store/apply-retention.js';
import { textSha256 } from '../store/file-digest.js';
import { publishLatest } from '../store/publish-latest.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { type SnapshotSigner, sealKey } from '../trust/snapshot-seal.js';
import { sealText } from '../trust/write-seal.js';
import { type ExportPlanDocument, planParts, readExportPlan, workPrefix } from './begin-export.js';
import { partName } from './export-table.js';
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
  /** Signs the snapshot's seal (the pipeline's KMS key); unsigned seals carry the digest chain only. */
  readonly signer?: SnapshotSigner;
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
      published = await publish(store, snapshotId, reporter, options.signer);
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

async function publish(
  store: SnapshotStore,
  snapshotId: string,
  reporter: ProgressReporter,
  signer: SnapshotSigner | undefined,
) {
  const plan = await readExportPlan(store, snapshotId);
  const { createdAt } = plan;
  const tables = await readTableResults(store, plan);
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
    const found = unallowedHits(manifest);
    if (found.length > 0) {
      throw new Error(
        `refused to publish a strict snapshot holding personal data found by export-time verification: ${found.join('; ')}`,
      );
    }
    reporter.report({ type: 'phase', phase: 'publish', detail: snapshotId });
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    // What every import will check, checked first: a manifest it would refuse is not published.
    parseManifest(text, `the manifest of snapshot ${snapshotId}`, snapshotId);
    // The seal goes first, so a reader never finds a manifest without one.
    await store.put(sealKey(snapshotId), await sealText(snapshotId, textSha256(text), signer));
    const stored = await store.put(manifestKey(snapshotId), text);
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

/** Each table's manifest entry, its parts' entries joined in part order; plan order (parents first). */
async function readTableResults(store: SnapshotStore, plan: ExportPlanDocument): Promise<ManifestTable[]> {
  const { snapshotId } = plan;
  // Keys sort by table directory, then part name, so parts arrive in order.
  const parts = await readJsonObjects<ManifestTable>(store, `${workPrefix(snapshotId)}tables/`);
  const byTable = new Map<string, ManifestTable[]>();
  for (const part of parts) {
    const name = `${part.schema}.${part.name}`;
    byTable.set(name, [...(byTable.get(name) ?? []), part]);
  }
  const done = (table: string, part: number) =>
    byTable
      .get(table)
      ?.some((entry) => entry.files.some((file) => file.key.endsWith(`/${partName(part)}.parquet`)));
  const missing = planParts(plan).filter(({ table, part }) => !done(table, part));
  if (missing.length > 0) {
    const names = missing.map(({ table, part }) => (plan.ranges[table] ? `${table} part ${part}` : table));
    throw new Error(`No export result for ${names.join(', ')}; the snapshot is incomplete.`);
  }
  return plan.tables.map((name) => {
    const entries = byTable.get(name) as [ManifestTable, ...ManifestTable[]];
    return {
      ...entries[0],
      columns: joinVerifiedColumns(entries),
      rows: entries.reduce((sum, part) => sum + part.rows, 0),
      files: entries.flatMap((part) => part.files),
      durationMs: entries.reduce((sum, part) => sum + part.durationMs, 0),
    };
  });
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
  // A publish that failed after writing them (latest.json could not move) leaves no half snapshot.
  await store.deletePrefix(sealKey(snapshotId));
  await store.deletePrefix(manifestKey(snapshotId));
  await store.deletePrefix(workPrefix(snapshotId));
  return { status: 'failed', ...(await writeFailureRecord(store, snapshotId, failures)) };
}

/** Writes failure.json; errors may quote a connection string, and credentials never reach it. */
export async function writeFailureRecord(
  store: SnapshotStore,
  snapshotId: string,
  failures: readonly TableFailure[],
): Promise<{ failureKey: string; failures: readonly TableFailure[] }> {
  const secrets = knownSecrets(process.env);
  const redacted = failures.map((failure) => ({ ...failure, error: redactSecrets(failure.error, secrets) }));
  const record: ExportFailureRecord = { snapshotId, failedAt: new Date().toISOString(), failures: redacted };
  const stored = await store.put(failureKey(snapshotId), `${JSON.stringify(record, null, 2)}\n`);
  return { failureKey: stored.key, failures: redacted };
}

/** Every JSON object under a prefix, read in parallel (one small object per table). */
async function readJsonObjects<T>(store: SnapshotStore, prefix: string): Promise<T[]> {
  const texts = await Promise.all((await store.list(prefix)).map((key) => store.readText(key)));
  return texts.flatMap((text) => (text === null ? [] : [JSON.parse(text) as T]));
}
