import { UsageError } from '../errors.js';
import { LATEST_KEY, latestPointerSchema, manifestKey, snapshotPrefix } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import type { SnapshotStore } from './snapshot-store.js';

export interface RetentionPolicy {
  /** Keep the N newest complete snapshots. */
  readonly keepNewest?: number;
  /** Keep complete snapshots created less than D days ago. */
  readonly newerThanDays?: number;
  /**
   * Snapshot folders without a manifest are exports that failed without cleaning up, or exports
   * still running; they are removed once older than this (default 24 hours).
   */
  readonly abandonedAfterHours?: number;
  /**
   * Remove only abandoned partial folders and keep every complete snapshot (`devsnap prune`
   * without --keep); otherwise at least one of keepNewest and newerThanDays is required.
   */
  readonly abandonedOnly?: boolean;
  /** Work out what would go, delete nothing. */
  readonly dryRun?: boolean;
  /** The clock, for tests. */
  readonly now?: Date;
}

export interface RetentionResult {
  /** Snapshot ids kept, newest first. */
  readonly kept: readonly string[];
  /** Snapshot ids removed (complete ones and abandoned partial ones). */
  readonly deleted: readonly string[];
  /** The id latest.json points at (always kept), or null. */
  readonly latest: string | null;
}

/**
 * Deletes old snapshots. A complete snapshot is kept when any rule given keeps it (the newest N,
 * or newer than D days) and always when latest.json points at it. Each snapshot's manifest is
 * deleted before its files, so a reader never finds a manifest whose files are gone.
 */
export async function applyRetention(
  store: SnapshotStore,
  policy: RetentionPolicy,
  reporter: ProgressReporter = silentReporter,
): Promise<RetentionResult> {
  validatePolicy(policy);
  const now = policy.now ?? new Date();
  const latest = await latestSnapshotId(store);
  const snapshots = await listSnapshots(store);

  const complete = snapshots.filter((s) => s.complete);
  const created = new Map<string, Date | null>();
  for (const snapshot of snapshots) {
    created.set(snapshot.id, await creationTime(store, snapshot));
  }
  // Newest first: by creation time, ids (time-sortable) breaking ties and covering unknown times.
  complete.sort(
    (a, b) =>
      (created.get(b.id)?.getTime() ?? 0) - (created.get(a.id)?.getTime() ?? 0) || (a.id < b.id ? 1 : -1),
  );
  const ageMs = (id: string) => now.getTime() - (created.get(id)?.getTime() ?? now.getTime());
  const dayMs = 24 * 60 * 60 * 1000;

  const deleted: string[] = [];
  const kept: string[] = [];
  complete.forEach((snapshot, index) => {
    const keep =
      policy.abandonedOnly === true ||
      snapshot.id === latest ||
      (policy.keepNewest !== undefined && index < policy.keepNewest) ||
      (policy.newerThanDays !== undefined && ageMs(snapshot.id) < policy.newerThanDays * dayMs);
    (keep ? kept : deleted).push(snapshot.id);
  });
  const abandonedMs = (policy.abandonedAfterHours ?? 24) * 60 * 60 * 1000;
  for (const snapshot of snapshots.filter((s) => !s.complete)) {
    // Without a readable time a partial folder may belong to a running export: leave it.
    const old = created.get(snapshot.id) !== null && ageMs(snapshot.id) > abandonedMs;
    if (old && snapshot.id !== latest) deleted.push(snapshot.id);
  }

  for (const id of policy.dryRun ? [] : deleted) {
    reporter.report({ type: 'notice', message: `Deleting snapshot ${id} (retention).` });
    await store.deletePrefix(manifestKey(id));
    await store.deletePrefix(snapshotPrefix(id));
  }
  return { kept, deleted, latest };
}

function validatePolicy(policy: RetentionPolicy): void {
  const problems: string[] = [];
  if (policy.keepNewest === undefined && policy.newerThanDays === undefined && !policy.abandonedOnly) {
    problems.push('give keepNewest, newerThanDays or both');
  }
  if (policy.keepNewest !== undefined && !(Number.isInteger(policy.keepNewest) && policy.keepNewest >= 1)) {
    problems.push(`keepNewest must be a whole number ≥ 1 (got ${policy.keepNewest})`);
  }
  if (policy.newerThanDays !== undefined && !(policy.newerThanDays > 0)) {
    problems.push(`newerThanDays must be > 0 (got ${policy.newerThanDays})`);
  }
  if (policy.abandonedAfterHours !== undefined && !(policy.abandonedAfterHours > 0)) {
    problems.push(`abandonedAfterHours must be > 0 (got ${policy.abandonedAfterHours})`);
  }
  if (problems.length > 0) {
    throw new UsageError(`Invalid retention policy: ${problems.join('; ')}.`, {
      hint: 'For example { keepNewest: 7 } or { keepNewest: 3, newerThanDays: 14 }.',
    });
  }
}

interface StoredSnapshot {
  readonly id: string;
  readonly complete: boolean;
}

async function listSnapshots(store: SnapshotStore): Promise<StoredSnapshot[]> {
  const ids = new Map<string, boolean>();
  for (const key of await store.list('snapshots/')) {
    const [id, ...rest] = key.slice('snapshots/'.length).split('/');
    if (!id) continue;
    ids.set(id, (ids.get(id) ?? false) || rest.join('/') === 'manifest.json');
  }
  return [...ids].map(([id, complete]) => ({ id, complete }));
}

async function latestSnapshotId(store: SnapshotStore): Promise<string | null> {
  const text = await store.readText(LATEST_KEY);
  if (text === null) return null;
  const parsed = latestPointerSchema.safeParse(safeJson(text));
  if (!parsed.success) {
    // Deleting while unsure what `latest` means could delete it.
    throw new UsageError(`${LATEST_KEY} in ${store.location} is corrupt; not applying retention.`, {
      hint: 'Run an export (it rewrites latest.json) and apply retention again.',
    });
  }
  return parsed.data.snapshotId;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** From the id (20261121T141139Z-…) when it has that form, else from the manifest's createdAt. */
async function creationTime(store: SnapshotStore, snapshot: StoredSnapshot): Promise<Date | null> {
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(snapshot.id);
  if (stamp) {
    const [, y, mo, d, h, mi, s] = stamp;
    return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  }
  if (!snapshot.complete) return null;
  const text = await store.readText(manifestKey(snapshot.id));
  const createdAt = (safeJson(text ?? '') as { createdAt?: unknown } | undefined)?.createdAt;
  const date = typeof createdAt === 'string' ? new Date(createdAt) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}
