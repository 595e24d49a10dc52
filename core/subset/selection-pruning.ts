import { qualifiedName, quoteIdent, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import type { ForeignKeyEdge, ForeignKeyGraph, TableComponent } from './foreign-key-graph.js';
import { encodeKey, type Key, KeySet } from './key-set.js';
import type { RowIdentity } from './row-identity.js';
import type { BaseSelection } from './selection-closure.js';
import {
  columnListKey,
  foreignKeyExpressions,
  readRows,
  readRowsMatching,
  worthReadingByParent,
} from './selection-reader.js';

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

/**
 * Drops every row whose foreign key (restrict or include-parents) points at a parent row that is
 * not exported, repeating while drops cascade: the greatest set in which every such key is
 * satisfied, so rows that only reference each other (a cycle, all selected) are kept. Tables are
 * pruned parents first; a cycle of tables is pruned in memory, over its selected rows only.
 */
export async function pruneSelection(
  source: Source,
  graph: ForeignKeyGraph,
  bases: ReadonlyMap<string, BaseSelection>,
): Promise<Map<string, PrunedTable>> {
  const pruned = new Map<string, PrunedTable>();
  const context = { source, graph, bases, pruned };
  for (const component of graph.components) {
    if (component.cyclic) await pruneCycle(context, component);
    else await pruneTable(context, component.tables[0] as TableInfo);
  }
  return pruned;
}

interface PruneContext {
  readonly source: Source;
  readonly graph: ForeignKeyGraph;
  readonly bases: ReadonlyMap<string, BaseSelection>;
  readonly pruned: Map<string, PrunedTable>;
}

/** Values a child's foreign key must match in its (already pruned) parent; null when the parent is complete. */
export function parentValues(pruned: ReadonlyMap<string, PrunedTable>, edge: ForeignKeyEdge): KeySet | null {
  const parent = pruned.get(qualifiedName(edge.parent));
  if (!parent || parent.final.kind === 'complete') return null;
  return parent.referenced.get(columnListKey(edge.referencedColumns)) ?? new KeySet();
}

/** Column lists the table's children reference, each once. */
function referencedLists(graph: ForeignKeyGraph, table: TableInfo): ForeignKeyEdge['referencedColumns'][] {
  const lists = new Map<string, ForeignKeyEdge['referencedColumns']>();
  for (const edge of graph.childrenOf(table))
    lists.set(columnListKey(edge.referencedColumns), edge.referencedColumns);
  return [...lists.values()];
}

const columnsSql = (columns: readonly { readonly name: string }[]) =>
  columns.map((column) => `t.${quoteIdent(column.name)}`);

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

async function pruneTable(context: PruneContext, table: TableInfo): Promise<void> {
  const { source, graph, bases, pruned } = context;
  const name = qualifiedName(table);
  const base = bases.get(name) as BaseSelection;
  const checks = graph
    .parentsOf(table)
    .map((edge) => ({ edge, values: parentValues(pruned, edge) }))
    .filter((check): check is ParentCheck => check.values !== null);
  const lists = referencedLists(graph, table);
  const result = {
    table,
    identity: base.identity,
    dropped: new Map<string, number>(),
    nulled: new Map<string, number>(),
    referenced: new Map<string, KeySet>(),
  };
  if (checks.length === 0 && base.complete) {
    pruned.set(name, { ...result, final: { kind: 'complete' }, rows: base.completeRows });
    return;
  }
  if (checks.length === 0) {
    // Nothing to drop: the keys stand, and children need only the values they reference.
    const identityList = base.identity.columns ? columnListKey(base.identity.columns) : null;
    for (const columns of lists) {
      const key = columnListKey(columns);
      if (key === identityList) {
        result.referenced.set(key, base.keys);
        continue;
      }
      const values: Key[] = [];
      for await (const batch of readRows(source, table, base.identity, base.keys, columnsSql(columns))) {
        for (const row of batch) {
          const value = encodeKey(row);
          if (value !== null) values.push(value);
        }
      }
      result.referenced.set(key, KeySet.of(values));
    }
    pruned.set(name, { ...result, final: { kind: 'keys', keys: base.keys }, rows: base.keys.size });
    return;
  }
  const identityExpressions = base.identity.expressions('t');
  const dropChecks = checks.filter((check) => check.edge.policy !== 'nullify');
  const expressions = [
    ...identityExpressions,
    ...checks.flatMap((check) => foreignKeyExpressions(check.edge, 't')),
    ...lists.flatMap((columns) => columnsSql(columns)),
  ];
  // Keys of a complete table's kept rows are worth holding only for a small share of it.
  const keyLimit = base.complete
    ? Math.max(10_000, Math.floor(base.completeRows / 4))
    : Number.POSITIVE_INFINITY;
  let keptKeys: Key[] | null = [];
  const listValues: Key[][] = lists.map(() => []);
  let kept = 0;
  let seen = 0;
  const driving = drivingCheck(table, base, dropChecks);
  for await (const batch of readSelection(source, base, driving, expressions)) {
    seen += batch.length;
    for (const row of batch) {
      let offset = identityExpressions.length;
      let failed: ForeignKeyEdge | null = null;
      const nulled: ForeignKeyEdge[] = [];
      for (const check of checks) {
        const width = check.edge.columns.length;
        const value = encodeKey(row.slice(offset, offset + width));
        offset += width;
        if (value === null || check.values.has(value)) continue;
        if (check.edge.policy === 'nullify') nulled.push(check.edge);
        else if (failed === null) failed = check.edge;
      }
      if (failed) {
        increment(result.dropped, failed.name);
        continue;
      }
      for (const edge of nulled) increment(result.nulled, edge.name);
      kept++;
      if (keptKeys) {
        keptKeys.push(encodeKey(row.slice(0, identityExpressions.length)) as Key);
        if (keptKeys.length > keyLimit) keptKeys = null;
      }
      lists.forEach((columns, i) => {
        const value = encodeKey(row.slice(offset, offset + columns.length) as TextValue[]);
        offset += columns.length;
        if (value !== null) (listValues[i] as Key[]).push(value);
      });
    }
  }
  // Rows not read at all had no matching parent through the driving key.
  const unread = (base.complete ? base.completeRows : base.keys.size) - seen;
  if (driving && unread > 0)
    result.dropped.set(driving.edge.name, (result.dropped.get(driving.edge.name) ?? 0) + unread);
  const droppedAny = result.dropped.size > 0;
  let final: FinalRows;
  if (base.complete && !droppedAny) final = { kind: 'complete' };
  else if (keptKeys) final = { kind: 'keys', keys: KeySet.of(keptKeys) };
  else final = { kind: 'filtered', checks: dropChecks };
  if (final.kind !== 'complete') {
    lists.forEach((columns, i) => {
      result.referenced.set(columnListKey(columns), KeySet.of(listValues[i] as Key[]));
    });
  }
  pruned.set(name, { ...result, final, rows: kept });
}

/**
 * The check to read a table by, when reading only the rows that match a parent's exported values
 * beats reading the table's whole selection (see worthReadingByParent): the parent with the fewest.
 */
function drivingCheck(
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
function readSelection(
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

interface LoadedTable {
  readonly table: TableInfo;
  readonly base: BaseSelection;
  /** Foreign keys checked here: to a member of the cycle, or to a parent outside it that is not complete. */
  readonly edges: readonly ForeignKeyEdge[];
  readonly lists: readonly ForeignKeyEdge['referencedColumns'][];
  readonly keys: Key[];
  /** Per checked edge, each row's foreign-key value. */
  readonly foreignKeys: (Key | null)[][];
  /** Per referenced column list, each row's value. */
  readonly listValues: (Key | null)[][];
  readonly alive: Uint8Array;
  readonly dropped: Map<string, number>;
}

async function pruneCycle(context: PruneContext, component: TableComponent): Promise<void> {
  const { source, graph, bases, pruned } = context;
  const members = new Set(component.tables);
  const outsideValues = (edge: ForeignKeyEdge) =>
    members.has(edge.parent) ? null : parentValues(pruned, edge);
  const needsWork = component.tables.some((table) => {
    const base = bases.get(qualifiedName(table)) as BaseSelection;
    return !base.complete || graph.parentsOf(table).some((edge) => outsideValues(edge) !== null);
  });
  if (!needsWork) {
    for (const table of component.tables) {
      const base = bases.get(qualifiedName(table)) as BaseSelection;
      pruned.set(qualifiedName(table), {
        table,
        identity: base.identity,
        final: { kind: 'complete' },
        rows: base.completeRows,
        dropped: new Map(),
        nulled: new Map(),
        referenced: new Map(),
      });
    }
    return;
  }

  const loaded = new Map<TableInfo, LoadedTable>();
  for (const table of component.tables) {
    const base = bases.get(qualifiedName(table)) as BaseSelection;
    const edges = graph
      .parentsOf(table)
      .filter((edge) => members.has(edge.parent) || outsideValues(edge) !== null);
    const lists = referencedLists(graph, table);
    const identityExpressions = base.identity.expressions('t');
    const expressions = [
      ...identityExpressions,
      ...edges.flatMap((edge) => foreignKeyExpressions(edge, 't')),
      ...lists.flatMap((columns) => columnsSql(columns)),
    ];
    const entry: Omit<LoadedTable, 'alive'> = {
      table,
      base,
      edges,
      lists,
      keys: [],
      foreignKeys: edges.map(() => []),
      listValues: lists.map(() => []),
      dropped: new Map(),
    };
    const outsideChecks = edges
      .filter((edge) => edge.policy !== 'nullify' && !members.has(edge.parent))
      .map((edge) => ({ edge, values: outsideValues(edge) as KeySet }));
    const driving = drivingCheck(table, base, outsideChecks);
    for await (const batch of readSelection(source, base, driving, expressions)) {
      for (const row of batch) {
        entry.keys.push(encodeKey(row.slice(0, identityExpressions.length)) as Key);
        let offset = identityExpressions.length;
        edges.forEach((edge, i) => {
          (entry.foreignKeys[i] as (Key | null)[]).push(
            encodeKey(row.slice(offset, offset + edge.columns.length)),
          );
          offset += edge.columns.length;
        });
        lists.forEach((columns, i) => {
          (entry.listValues[i] as (Key | null)[]).push(encodeKey(row.slice(offset, offset + columns.length)));
          offset += columns.length;
        });
      }
    }
    const unread = (base.complete ? base.completeRows : base.keys.size) - entry.keys.length;
    if (driving && unread > 0) entry.dropped.set(driving.edge.name, unread);
    loaded.set(table, { ...entry, alive: new Uint8Array(entry.keys.length).fill(1) });
  }

  // Parent rows by referenced value, for every foreign key inside the cycle.
  const rowIndex = new Map<ForeignKeyEdge, Map<Key, number>>();
  const referrers = new Map<ForeignKeyEdge, Map<Key, number[]>>();
  for (const { edges, foreignKeys } of loaded.values()) {
    edges.forEach((edge, i) => {
      if (!members.has(edge.parent)) return;
      const parent = loaded.get(edge.parent) as LoadedTable;
      const listIndex = parent.lists.findIndex(
        (list) => columnListKey(list) === columnListKey(edge.referencedColumns),
      );
      const index = new Map<Key, number>();
      (parent.listValues[listIndex] as (Key | null)[]).forEach((value, row) => {
        if (value !== null) index.set(value, row);
      });
      rowIndex.set(edge, index);
      if (edge.policy === 'nullify') return;
      const byValue = new Map<Key, number[]>();
      (foreignKeys[i] as (Key | null)[]).forEach((value, row) => {
        if (value === null) return;
        const rows = byValue.get(value);
        if (rows) rows.push(row);
        else byValue.set(value, [row]);
      });
      referrers.set(edge, byValue);
    });
  }

  const queue: [LoadedTable, number][] = [];
  const kill = (entry: LoadedTable, row: number, edge: ForeignKeyEdge) => {
    if (entry.alive[row] === 0) return;
    entry.alive[row] = 0;
    increment(entry.dropped, edge.name);
    queue.push([entry, row]);
  };
  for (const entry of loaded.values()) {
    entry.edges.forEach((edge, i) => {
      if (edge.policy === 'nullify') return;
      const outside = outsideValues(edge);
      const index = rowIndex.get(edge);
      (entry.foreignKeys[i] as (Key | null)[]).forEach((value, row) => {
        if (value === null) return;
        const present = outside ? outside.has(value) : index?.has(value);
        if (!present) kill(entry, row, edge);
      });
    });
  }
  // A dropped parent row takes the rows referencing it along, and so on down the cycle.
  while (queue.length > 0) {
    const [parent, row] = queue.pop() as [LoadedTable, number];
    for (const [edge, byValue] of referrers) {
      if (edge.parent !== parent.table) continue;
      const listIndex = parent.lists.findIndex(
        (list) => columnListKey(list) === columnListKey(edge.referencedColumns),
      );
      const value = parent.listValues[listIndex]?.[row] ?? null;
      if (value === null) continue;
      const child = loaded.get(edge.child) as LoadedTable;
      for (const childRow of byValue.get(value) ?? []) kill(child, childRow, edge);
    }
  }

  for (const entry of loaded.values()) {
    const nulled = new Map<string, number>();
    entry.edges.forEach((edge, i) => {
      if (edge.policy !== 'nullify') return;
      const outside = outsideValues(edge);
      const index = rowIndex.get(edge);
      const parent = loaded.get(edge.parent);
      (entry.foreignKeys[i] as (Key | null)[]).forEach((value, row) => {
        if (value === null || entry.alive[row] === 0) return;
        let present: boolean;
        if (outside) present = outside.has(value);
        else {
          const parentRow = index?.get(value);
          present = parentRow !== undefined && parent?.alive[parentRow] === 1;
        }
        if (!present) increment(nulled, edge.name);
      });
    });
    const keys: Key[] = [];
    const listValues: Key[][] = entry.lists.map(() => []);
    entry.keys.forEach((key, row) => {
      if (entry.alive[row] === 0) return;
      keys.push(key);
      entry.listValues.forEach((values, i) => {
        const value = values[row] ?? null;
        if (value !== null) (listValues[i] as Key[]).push(value);
      });
    });
    const complete = entry.base.complete && entry.dropped.size === 0;
    const referenced = new Map<string, KeySet>();
    if (!complete) {
      entry.lists.forEach((columns, i) => {
        referenced.set(columnListKey(columns), KeySet.of(listValues[i] as Key[]));
      });
    }
    pruned.set(qualifiedName(entry.table), {
      table: entry.table,
      identity: entry.base.identity,
      final: complete ? { kind: 'complete' } : { kind: 'keys', keys: KeySet.of(keys) },
      rows: keys.length,
      dropped: entry.dropped,
      nulled,
      referenced,
    });
  }
}
