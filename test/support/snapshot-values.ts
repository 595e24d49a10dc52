import { parseCopyText } from '../../core/copy/copy-text-format.js';
import type { Manifest } from '../../core/manifest.js';
import { decodeParquetToCopyText } from '../../core/parquet/parquet-decoder.js';
import { inspectSnapshot } from '../../core/snapshot-catalog.js';
import type { TextValue } from '../../core/source/source.js';
import type { LocalDirectoryStore } from '../../core/store/local-directory-store.js';

/** The manifest of a snapshot in a test store (core's inspectSnapshot, under the name tests use). */
export function readManifest(store: LocalDirectoryStore, snapshotId: string): Promise<Manifest> {
  return inspectSnapshot(store, snapshotId);
}

/** Every row of a table in a snapshot, decoded from its Parquet files, as column → text value. */
export async function snapshotRows(
  store: LocalDirectoryStore,
  snapshotId: string,
  table: string,
): Promise<Record<string, TextValue>[]> {
  const manifest = await readManifest(store, snapshotId);
  const entry = manifest.tables.find((t) => `${t.schema}.${t.name}` === table);
  if (!entry) throw new Error(`no table ${table} in snapshot ${snapshotId}`);
  const rows: Record<string, TextValue>[] = [];
  for (const file of entry.files) {
    for await (const batch of parseCopyText(
      decodeParquetToCopyText(store.localPath(file.key), entry.columns),
    )) {
      for (const row of batch)
        rows.push(Object.fromEntries(entry.columns.map((c, i) => [c.name, row[i] ?? null])));
    }
  }
  return rows;
}
