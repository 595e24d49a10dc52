import type pg from 'pg';
import type { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import { cellTexts, ValueIndex } from './cell-texts.js';
import { readManifest, snapshotRows } from './snapshot-values.js';

export interface PersonalValueScan {
  /** Cells read (not NULL), in every table of the snapshot. */
  readonly cells: number;
  /** `schema.table.column` → how many values were found there, with the first few (`id N: value`). */
  readonly leaks: Readonly<Record<string, string>>;
}

/**
 * Looks for known personal values in every decoded text (cellTexts) of every cell of a snapshot.
 * `anywhere` values (emails, hashes: no fake reproduces them) count wherever they are found.
 * `inPlace` values (names, usernames, cities: a fake may by chance be another person's real one)
 * count where the source row (same `id`) held them too.
 */
export async function scanSnapshot(
  store: LocalDirectoryStore,
  snapshotId: string,
  options: { anywhere: readonly string[]; inPlace: readonly string[]; source: pg.Client },
): Promise<PersonalValueScan> {
  const anywhere = new ValueIndex(options.anywhere);
  const inPlace = new ValueIndex(options.inPlace);
  const found = new Map<string, string[]>();
  const record = (column: string, where: string) => found.set(column, [...(found.get(column) ?? []), where]);
  let cells = 0;
  for (const table of (await readManifest(store, snapshotId)).tables) {
    const name = `${table.schema}.${table.name}`;
    const rows = await snapshotRows(store, snapshotId, name);
    const sourceRows = new Map<string, Record<string, string | null>>();
    if (options.inPlace.length > 0 && table.columns.some((c) => c.name === 'id') && rows.length > 0) {
      // As text, the way the snapshot holds values (jsonb as its text, not parsed by pg).
      const columns = table.columns.map((c) => `${JSON.stringify(c.name)}::text`).join(', ');
      const { rows: raw } = await options.source.query<Record<string, string | null>>(
        `SELECT ${columns} FROM ${name}`,
      );
      for (const row of raw) sourceRows.set(String(row.id), row);
    }
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        if (value === null) continue;
        cells++;
        const texts = cellTexts(value);
        const key = `${name}.${column}`;
        for (const hit of new Set(texts.flatMap((text) => anywhere.find(text))))
          record(key, `id ${row.id}: ${hit}`);
        const candidates = new Set(texts.flatMap((text) => inPlace.find(text)));
        if (candidates.size === 0) continue;
        const before = sourceRows.get(String(row.id))?.[column];
        const inSource =
          typeof before === 'string'
            ? new Set(cellTexts(before).flatMap((text) => inPlace.find(text)))
            : null;
        for (const hit of candidates)
          if (inSource === null || inSource.has(hit)) record(key, `id ${row.id}: ${hit}`);
      }
    }
  }
  const leaks = Object.fromEntries(
    [...found].map(([column, hits]) => [column, `${hits.length}: ${hits.slice(0, 3).join(' | ')}`]),
  );
  return { cells, leaks };
}
