import { quoteIdent, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import type { ForeignKeyEdge } from './foreign-key-graph.js';
import { encodeKey, type KeySet } from './key-set.js';
import { boundedKeyBatches, fromTable, keyBatchCondition, type RowIdentity } from './row-identity.js';

/**
 * Above this share of a table, reading the whole table and keeping the selected rows beats
 * looking them up batch by batch through an index.
 */
const SCAN_SHARE = 0.25;

/**
 * Reads `expressions` (over alias `t`) for the rows of `table` whose identity is in `keys`, or for
 * every row when `keys` is null. Memory stays bounded: rows stream, key batches are bounded.
 */
export async function* readRows(
  source: Source,
  table: TableInfo,
  identity: RowIdentity,
  keys: KeySet | null,
  expressions: readonly string[],
): AsyncIterable<TextValue[][]> {
  const from = fromTable(table, 't');
  if (keys === null) {
    yield* source.streamRows(`SELECT ${expressions.join(', ')} FROM ${from}`);
    return;
  }
  if (keys.size === 0) return;
  const keyExpressions = identity.expressions('t');
  // estimatedRows is -1 for a table never analysed: look its rows up rather than guess.
  if (!identity.indexed || (table.estimatedRows >= 0 && keys.size > SCAN_SHARE * table.estimatedRows)) {
    // A large share (or no index): one pass over the table, filtered here.
    const width = expressions.length;
    const select = `SELECT ${[...expressions, ...keyExpressions].join(', ')} FROM ${from}`;
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
  for (const batch of boundedKeyBatches(keys)) {
    const condition = keyBatchCondition(keyExpressions, identity.types, batch, 1);
    yield* source.streamRows(`SELECT ${expressions.join(', ')} FROM ${from} WHERE ${condition.sql}`, {
      params: condition.params,
    });
  }
}

/**
 * The foreign key's columns of the child aliased `alias`, cast to the referenced columns' types
 * where they differ, so both sides print the same text for equal values.
 */
export function foreignKeyExpressions(edge: ForeignKeyEdge, alias: string): string[] {
  return edge.columns.map((column, i) => {
    const referenced = edge.referencedColumns[i];
    const sql = `${alias}.${quoteIdent(column.name)}`;
    return referenced && referenced.dataType !== column.dataType ? `${sql}::${referenced.dataType}` : sql;
  });
}

export function referencedExpressions(edge: ForeignKeyEdge, alias: string): string[] {
  return edge.referencedColumns.map((column) => `${alias}.${quoteIdent(column.name)}`);
}

/** Stable name of a column list, to share one set of referenced values between foreign keys. */
export function columnListKey(columns: readonly { readonly name: string }[]): string {
  return JSON.stringify(columns.map((column) => column.name));
}
