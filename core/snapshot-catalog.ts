import { errorMessage } from './errors.js';
import {
  listSnapshotIds,
  readLatestPointer,
  readManifest,
  readManifestById,
} from './import/snapshot-reader.js';
import type { Manifest } from './manifest.js';
import type { SnapshotStore } from './store/snapshot-store.js';

export interface SnapshotSummary {
  readonly snapshotId: string;
  readonly createdAt: string | null;
  readonly tables: number;
  readonly rows: number;
  readonly bytes: number;
  readonly latest: boolean;
  /** Set when the manifest could not be read; such a snapshot cannot be imported. */
  readonly problem?: string;
}

/** Every complete snapshot in the store, oldest first. */
export async function listSnapshots(store: SnapshotStore): Promise<SnapshotSummary[]> {
  const pointer = await readLatestPointer(store).catch(() => null);
  const summaries: SnapshotSummary[] = [];
  for (const snapshotId of await listSnapshotIds(store)) {
    const latest = pointer?.snapshotId === snapshotId;
    try {
      // One listing for all of them: read each manifest by its exact id.
      const { manifest } = await readManifestById(store, snapshotId, pointer);
      summaries.push({
        snapshotId,
        createdAt: manifest.createdAt,
        tables: manifest.tables.length,
        rows: manifest.totals.rows,
        bytes: manifest.totals.bytes,
        latest,
      });
    } catch (error) {
      summaries.push({
        snapshotId,
        createdAt: null,
        tables: 0,
        rows: 0,
        bytes: 0,
        latest,
        problem: errorMessage(error),
      });
    }
  }
  return summaries;
}

/** The manifest of one snapshot (`latest`, an id, or a unique id prefix). */
export async function inspectSnapshot(store: SnapshotStore, snapshot: string): Promise<Manifest> {
  return (await readManifest(store, snapshot)).manifest;
}
