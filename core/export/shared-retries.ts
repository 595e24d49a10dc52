import type { SnapshotAnonymiser } from '../anonymise/snapshot-anonymiser.js';
import type { TableInfo } from '../schema/schema-model.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { keyDigest } from '../subset/key-set.js';
import { workPrefix } from './begin-export.js';

/**
 * Collisions on a unique anonymised column are resolved in the order values arrive, so a worker
 * exporting a foreign key that follows that column (in another table, a later level) must use the
 * attempts the key's own worker settled on. Those are few; they travel through the store as keyed
 * digests of the input, never the value itself.
 */
export interface SharedRetries {
  readonly store: SnapshotStore;
  readonly snapshotId: string;
  /** The run's digest key (see beginExport). */
  readonly digestKey: string;
}

const retriesKey = (snapshotId: string, column: string) =>
  `${workPrefix(snapshotId)}retries/${encodeURIComponent(column)}.json`;

/** Before exporting `table`: the retries of every key its columns follow, as that key's worker stored them. */
export async function loadRetries(
  anonymiser: SnapshotAnonymiser,
  table: TableInfo,
  shared: SharedRetries,
): Promise<void> {
  for (const column of anonymiser.followedKeys(table)) {
    const text = await shared.store.readText(retriesKey(shared.snapshotId, column));
    if (text === null) continue;
    const attempts = new Map(JSON.parse(text) as [string, number][]);
    anonymiser.presetRetries(column, (input) => attempts.get(keyDigest(input, shared.digestKey)));
  }
}

/** After exporting `table`: the retries of its own distinct columns, for the workers that follow them. */
export async function storeRetries(
  anonymiser: SnapshotAnonymiser,
  table: TableInfo,
  shared: SharedRetries,
): Promise<void> {
  for (const column of anonymiser.distinctKeys(table)) {
    const retries = anonymiser.retries(column);
    if (retries.size === 0) continue;
    const entries = [...retries].map(([input, attempt]) => [keyDigest(input, shared.digestKey), attempt]);
    await shared.store.put(retriesKey(shared.snapshotId, column), JSON.stringify(entries));
  }
}
