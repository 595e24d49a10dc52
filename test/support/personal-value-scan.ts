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
 * count where the source row (same `id`) held them too — in JSON, at the same path. `inContext` values (a first name alone:
 * another name's fake may be it) count where the source row held them after the same word too
 * (`for Mia` in both, not `for Mia` faked into `for Emily` beside `with Mia` faked from Olivia).
 */
export async function scanSnapshot(
  store: LocalDirectoryStore,
  snapshotId: string,
  options: {
    anywhere: readonly string[];
    inPlace: readonly string[];
    inContext?: readonly string[];
    source: pg.Client;
  },
): Promise<PersonalValueScan> {
  const anywhere = new ValueIndex(options.anywhere);
  const inPlace = new ValueIndex([...options.inPlace, ...(options.inContext ?? [])]);
  const inContext = new Set((options.inContext ?? []).map((value) => value.toLowerCase()));
  const found = new Map<string, string[]>();
  const record = (column: string, where: string) => found.set(column, [...(found.get(column) ?? []), where]);
  let cells = 0;
  for (const table of (await readManifest(store, snapshotId)).tables) {
    const name = `${table.schema}.${table.name}`;
    const rows = await snapshotRows(store, snapshotId, name);
    const sourceRows = new Map<string, Record<string, string | null>>();
    if (inPlace.size > 0 && table.columns.some((c) => c.name === 'id') && rows.length > 0) {
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
        const sourceTexts = typeof before === 'string' ? cellTexts(before) : null;
        const inSource = sourceTexts ? new Set(sourceTexts.flatMap((text) => inPlace.find(text))) : null;
        const leaves = typeof before === 'string' ? samePlaceLeaves(before, value, inPlace) : null;
        for (const hit of candidates) {
          if (inSource !== null && !inSource.has(hit)) continue;
          if (leaves !== null && !leaves.has(hit)) continue;
          if (inContext.has(hit) && sourceTexts) {
            const written = new Set(texts.flatMap((text) => contexts(text, hit)));
            if (!sourceTexts.some((text) => contexts(text, hit).some((context) => written.has(context))))
              continue;
          }
          record(key, `id ${row.id}: ${hit}`);
        }
      }
    }
  }
  const leaks = Object.fromEntries(
    [...found].map(([column, hits]) => [column, `${hits.length}: ${hits.slice(0, 3).join(' | ')}`]),
  );
  return { cells, leaks };
}

/**
 * In a JSON cell, the values found at the same path in the source cell and the written one (a fake
 * street `543 Cambridge Street` beside a real city Cambridge is not that city); null for other cells.
 */
function samePlaceLeaves(before: string, after: string, index: ValueIndex): Set<string> | null {
  const source = jsonLeaves(before);
  const written = jsonLeaves(after);
  if (source === null || written === null) return null;
  const same = new Set<string>();
  for (const [path, text] of written) {
    const was = source.get(path);
    if (was === undefined) continue;
    const there = new Set(cellTexts(was).flatMap((part) => index.find(part)));
    for (const hit of cellTexts(text).flatMap((part) => index.find(part))) if (there.has(hit)) same.add(hit);
  }
  return same;
}

/** Every string leaf of a JSON object or array by its path, or null when the text is not one. */
function jsonLeaves(text: string): Map<string, string> | null {
  if (!/^\s*[[{]/.test(text)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const leaves = new Map<string, string>();
  const walk = (node: unknown, path: string): void => {
    if (typeof node === 'string') leaves.set(path, node);
    else if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${path}[${i}]`);
    } else if (node !== null && typeof node === 'object')
      for (const [key, item] of Object.entries(node)) {
        leaves.set(`${path}.${key}#key`, key);
        walk(item, `${path}.${key}`);
      }
  };
  walk(parsed, '$');
  return leaves;
}

/**
 * `for mia !` for each whole-word `mia` in the text: the words either side of it and the value,
 * lower case (`name arthur smith` in JSON is not `name arthur jones`).
 */
function contexts(text: string, value: string): string[] {
  const lower = text.toLowerCase();
  const found: string[] = [];
  for (let at = lower.indexOf(value); at >= 0; at = lower.indexOf(value, at + 1)) {
    const end = at + value.length;
    if (/[\p{L}\p{N}]/u.test(lower[at - 1] ?? '') || /[\p{L}\p{N}]/u.test(lower[end] ?? '')) continue;
    const before = /([\p{L}\p{N}]+)[^\p{L}\p{N}]*$/u.exec(lower.slice(Math.max(0, at - 40), at))?.[1] ?? '';
    const after = /^[^\p{L}\p{N}]*([\p{L}\p{N}]+)/u.exec(lower.slice(end, end + 40))?.[1] ?? '';
    found.push(`${before} ${value} ${after}`);
  }
  return found;
}
