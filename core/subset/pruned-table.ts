import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import type { ForeignKeyEdge, ForeignKeyGraph } from './foreign-key-graph.js';
import { encodeKey, type Key, KeySet } from './key-set.js';
import type { RowIdentity } from './row-identity.js';
import { columnRefs } from './row-identity.js';
import type { BaseSelection } from './selection-closure.js';
import { columnListKey, readRows, readRowsMatching, worthReadingByParent } from './selection-reader.js';

/** A foreign key checked against the values its parent exports. */
export interface ParentCheck {
  readonly edge: ForeignKeyEdge;
  /** Values of the referenced columns over the parent's exported rows. */
  readonly values: KeySet;
}

/** The rows a table exports after foreign-key pruning. */
export type FinalRows =
  | { readonly kind: 'complete' }
  | { readonly kind: 'keys'; readonly keys: KeySet }
  /** Every row that passes `checks`; used for a large share of a big table, so no key set is held. */
  | { readonly kind: 'filtered'; readonly checks: readonly ParentCheck[] };

export interface PrunedTable {
  readonly table: TableInfo;
  readonly identity: RowIdentity;
  readonly final: FinalRows;
  readonly rows: number;
  /** Rows dropped by each foreign key (restrict, or include-parents whose parent was dropped). */
  readonly dropped: Map<string, number>;
  /** Rows whose foreign key is set to NULL (nullify). */
  readonly nulled: Map<string, number>;
  /** Values of column lists that children reference, when the table is not complete. */
  readonly referenced: Map<string, KeySet>;
}

export interface PruneContext {
  readonly source: Source;
  readonly graph: ForeignKeyGraph;
  readonly bases: ReadonlyMap<string, BaseSelection>;
  readonly pruned: Map<string, PrunedTable>;
}

/** Values a child's foreign key must match in its (already pruned) parent; null when the parent is complete. */
export function parentValues(pruned: ReadonlyMap<string, PrunedTable>, edge: ForeignKeyEdge): KeySet | null {
  const parent = pruned.get(qualifiedName(edge.parent));
  if (!parent) return null;
  const values = parent.referenced.get(columnListKey(edge.referencedColumns));
  // A declared key to a table exported whole always holds; a virtual one may point at no row at all.
  if (parent.final.kind === 'complete') return edge.virtual ? (values ?? null) : null;
  return values ?? new KeySet();
}

/** Column lists that virtual keys reference: kept even for a table exported whole (see parentValues). */
export function virtuallyReferencedLists(
  graph: ForeignKeyGraph,
  table: TableInfo,
): ForeignKeyEdge['referencedColumns'][] {
  const lists = new Map<string, ForeignKeyEdge['referencedColumns']>();
  for (const edge of graph.childrenOf(table)) {
    if (edge.virtual) lists.set(columnListKey(edge.referencedColumns), edge.referencedColumns);
  }
  return [...lists.values()];
}

/** The values of `lists` over every row of a table exported whole. */
export async function completeReferenced(
  source: Source,
  table: TableInfo,
  identity: RowIdentity,
  lists: readonly ForeignKeyEdge['referencedColumns'][],
): Promise<Map<string, KeySet>> {
  const referenced = new Map<string, KeySet>();
  for (const columns of lists) {
    const values: Key[] = [];
    for await (const batch of readRows(source, table, identity, null, columnRefs(columns, 't'))) {
      for (const row of batch) {
        const value = encodeKey(row);
        if (value !== null) values.push(value);
      }
    }
    referenced.set(columnListKey(columns), KeySet.of(values));
  }
  return referenced;
}

/** Column lists the table's children reference, each once. */
export function referencedLists(
  graph: ForeignKeyGraph,
  table: TableInfo,
): ForeignKeyEdge['referencedColumns'][] {
  const lists = new Map<string, ForeignKeyEdge['referencedColumns']>();
  for (const edge of graph.childrenOf(table))
    lists.set(columnListKey(edge.referencedColumns), edge.referencedColumns);
  return [...lists.values()];
}

export function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * The check to read a table by, when reading only the rows that match a parent's exported values
 * beats reading the table's whole selection (see worthReadingByParent): the parent with the fewest.
 */
export function drivingCheck(
  table: TableInfo,
  base: BaseSelection,
  checks: readonly ParentCheck[],
): ParentCheck | null {
  let best: ParentCheck | null = null;
  for (const check of checks) {
    if (check.edge.policy !== 'nullify' && (!best || check.values.size < best.values.size)) best = check;
  }
  const rows = base.complete ? base.completeRows : base.keys.size;
  return best && worthReadingByParent(table, best.edge, best.values, rows) ? best : null;
}

/** The selection's rows (identity first in `expressions`), or only those that can pass `driving`. */
export function readSelection(
  source: Source,
  base: BaseSelection,
  driving: ParentCheck | null,
  expressions: readonly string[],
): AsyncIterable<TextValue[][]> {
  const keys = base.complete ? null : base.keys;
  return driving
    ? readRowsMatching(source, base.table, base.identity, keys, driving.edge, driving.values, expressions)
    : readRows(source, base.table, base.identity, keys, expressions);
}
