import { quoteIdent, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import type { ForeignKeyEdge } from './foreign-key-graph.js';
import { childKeyExpressions, childKeyLookup } from './key-expressions.js';
import { encodeKey, type Key, type KeyLookup, KeySet } from './key-set.js';
import {
  boundedKeyBatches,
  fromTable,
  KEY_BATCH_SIZE,
  keyBatchCondition,
  keyBatchJoin,
  type RowIdentity,
} from './row-identity.js';
import type { KeyRange } from './row-selection.js';

/**
 * Above this share of a table, reading the whole table and keeping the selected rows beats
 * looking them up batch by batch through an index.
 */
const SCAN_SHARE = 0.25;

/**
 * Reads `expressions` (over alias `t`) for the rows of `table` whose identity is in `keys`, or for
 * every row when `keys` is null; only rows in `range` when it is given. Memory stays bounded: rows
 * stream, key batches are bounded.
 */
export async function* readRows(
  source: Source,
  table: TableInfo,
  identity: RowIdentity,
  keys: KeyLookup | null,
  expressions: readonly string[],
  range?: KeyRange,
): AsyncIterable<TextValue[][]> {
  const from = fromTable(table, 't');
  const bounds = range ? rangeCondition(identity, range) : null;
  const where = (conditions: (string | null)[]) => {
    const present = conditions.filter((condition): condition is string => condition !== null);
    return present.length > 0 ? ` WHERE ${present.join(' AND ')}` : '';
  };
  if (keys === null) {
    yield* source.streamRows(`SELECT ${expressions.join(', ')} FROM ${from}${where([bounds])}`);
    return;
  }
  if (keys.size === 0) return;
  const keyExpressions = identity.expressions('t');
  // estimatedRows is -1 for a table never analysed: look its rows up rather than guess. Keys kept
  // only as digests cannot be sent to the server, so such a table is scanned too.
  if (
    !(keys instanceof KeySet) ||
    !identity.indexed ||
    (table.estimatedRows >= 0 && keys.size > SCAN_SHARE * table.estimatedRows)
  ) {
    // A large share (or no index): one pass over the table, filtered here.
    const width = expressions.length;
    const select = `SELECT ${[...expressions, ...keyExpressions].join(', ')} FROM ${from}${where([bounds])}`;
    for await (const batch of source.streamRows(select)) {
      const kept: TextValue[][] = [];
      for (const row of batch) {
        const key = encodeKey(row.slice(width));
        if (key !== null && keys.has(key)) kept.push(row.slice(0, width));
      }
      if (kept.length > 0) yield kept;
    }
    return;
  }
  for (const batch of boundedKeyBatches(range ? [...keys].filter(keyInRange(range)) : keys)) {
    const select =
      keyExpressions.length === 1
        ? keyBatchCondition(keyExpressions, identity.types, batch, 1)
        : keyBatchJoin(keyExpressions, identity.types, batch, 1);
    const clause = keyExpressions.length === 1 ? where([select.sql]) : ` ${select.sql}`;
    yield* source.streamRows(`SELECT ${expressions.join(', ')} FROM ${from}${clause}`, {
      params: select.params,
    });
  }
}

const INTEGER = /^-?\d+$/;

/** The SQL condition of a key range on the identity's one integer column (bounds are checked integers). */
function rangeCondition(identity: RowIdentity, range: KeyRange): string | null {
  const [column] = identity.expressions('t');
  if (identity.columns?.length !== 1 || column === undefined) {
    throw new Error('A key range needs a row identity of one integer column');
  }
  const parts: string[] = [];
  for (const [operator, bound] of [
    ['>=', range.from],
    ['<', range.to],
  ] as const) {
    if (bound === null) continue;
    if (!INTEGER.test(bound)) throw new Error(`A key range bound must be an integer, got ${bound}`);
    parts.push(`${column} ${operator} ${bound}`);
  }
  return parts.length > 0 ? parts.join(' AND ') : null;
}

function keyInRange(range: KeyRange): (key: Key) => boolean {
  const from = range.from === null ? null : BigInt(range.from);
  const to = range.to === null ? null : BigInt(range.to);
  return (key) => {
    const value = BigInt(key);
    return (from === null || value >= from) && (to === null || value < to);
  };
}

/**
 * Rows of a selection that can pass a check against one parent: those whose key matches one of
 * the parent's exported values, found by the server batch by batch, plus those whose key is NULL.
 * Reading these instead of the whole selection pays when the parent's values are few (or an
 * index leads with the key's columns); rows left out would fail the check anyway. `expressions`
 * must start with the identity when `keys` is given.
 */
export async function* readRowsMatching(
  source: Source,
  table: TableInfo,
  identity: RowIdentity,
  keys: KeySet | null,
  edge: ForeignKeyEdge,
  values: KeySet,
  expressions: readonly string[],
): AsyncIterable<TextValue[][]> {
  const from = fromTable(table, 't');
  const width = identity.expressions('t').length;
  const inSelection = (batch: TextValue[][]) =>
    keys === null
      ? batch
      : batch.filter((row) => {
          const key = encodeKey(row.slice(0, width));
          return key !== null && keys.has(key);
        });
  for (const batch of boundedKeyBatches(values)) {
    const condition = childKeyCondition(edge, 't', batch, 1);
    const select = `SELECT ${expressions.join(', ')} FROM ${from} WHERE ${condition.sql}`;
    for await (const rows of source.streamRows(select, { params: condition.params })) {
      const kept = inSelection(rows);
      if (kept.length > 0) yield kept;
    }
  }
  const unset = childKeyNullCondition(edge, 't');
  if (unset !== null) {
    for await (const rows of source.streamRows(
      `SELECT ${expressions.join(', ')} FROM ${from} WHERE ${unset}`,
    )) {
      const kept = inSelection(rows);
      if (kept.length > 0) yield kept;
    }
  }
}

/**
 * The condition that the child's key (table aliased `alias`) is one of `values` (the parent's
 * text values, as keys). The key's own columns, uncast, so an index on them serves the lookup.
 */
export function childKeyCondition(
  edge: ForeignKeyEdge,
  alias: string,
  values: readonly Key[],
  firstParam: number,
): { sql: string; params: string[] } {
  const lookup = childKeyLookup(edge, alias);
  return keyBatchCondition(lookup.sql, lookup.types, values, firstParam);
}

/** The condition that the child's key is NULL (it references nothing), or null when it cannot be. */
export function childKeyNullCondition(edge: ForeignKeyEdge, alias: string): string | null {
  if (edge.virtual !== null) {
    return childKeyExpressions(edge, alias)
      .map((sql) => `${sql} IS NULL`)
      .join(' OR ');
  }
  const nullable = edge.columns.filter((column) => column.nullable);
  if (nullable.length === 0) return null;
  return nullable.map((column) => `${alias}.${quoteIdent(column.name)} IS NULL`).join(' OR ');
}

/** Batches of parent values a child is read by, at most, when no index leads with the key's columns. */
const UNINDEXED_BATCHES = 4;

/**
 * Whether reading a table by a parent's values beats reading it whole: the values must be fewer
 * than the rows, and either an index leads with the key's columns or a few batches do it.
 */
export function worthReadingByParent(
  table: TableInfo,
  edge: ForeignKeyEdge,
  values: KeySet,
  rows: number,
): boolean {
  if (values.size >= rows) return false;
  if (values.size <= UNINDEXED_BATCHES * KEY_BATCH_SIZE) return true;
  // A virtual key is an expression no plain index serves.
  if (edge.virtual !== null) return false;
  return hasIndexLeadingWith(
    table,
    edge.columns.map((column) => column.name),
  );
}

/** An index (of a key, a unique constraint, or its own) whose first columns are `columns`. */
export function hasIndexLeadingWith(table: TableInfo, columns: readonly string[]): boolean {
  const leads = (indexColumns: readonly string[]) => columns.every((column, i) => indexColumns[i] === column);
  if (table.primaryKey && leads(table.primaryKey.columns)) return true;
  if (table.uniqueConstraints.some((unique) => leads(unique.columns))) return true;
  return table.indexes.some((index) => {
    const list = /USING \w+ \(([^)]*)\)/.exec(index.definition)?.[1];
    if (!list) return false;
    const names = list.split(',').map((part) =>
      part
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .replaceAll('""', '"'),
    );
    return leads(names);
  });
}

/** The child's key values as text comparable with the parent's (see childKeyExpressions). */
export const foreignKeyExpressions = childKeyExpressions;

/** Stable name of a column list, to share one set of referenced values between foreign keys. */
export function columnListKey(columns: readonly { readonly name: string }[]): string {
  return JSON.stringify(columns.map((column) => column.name));
}
