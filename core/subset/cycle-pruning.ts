import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { ForeignKeyEdge, TableComponent } from './foreign-key-graph.js';
import { encodeKey, type Key, KeySet } from './key-set.js';
import {
  completeReferenced,
  drivingCheck,
  increment,
  type PruneContext,
  parentValues,
  readSelection,
  referencedLists,
  virtuallyReferencedLists,
} from './pruned-table.js';
import { columnRefs } from './row-identity.js';
import type { BaseSelection } from './selection-closure.js';
import { columnListKey, foreignKeyExpressions } from './selection-reader.js';

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

/**
 * Prunes the tables of a cycle together, in memory over their selected rows (only those that can
 * match their parents outside the cycle are read): rows whose parent is missing are dropped, and
 * each drop takes the rows that reference the dropped row along, until nothing changes.
 */
export async function pruneCycle(context: PruneContext, component: TableComponent): Promise<void> {
  const { source, graph, bases, pruned } = context;
  const members = new Set(component.tables);
  const outsideValues = (edge: ForeignKeyEdge) =>
    members.has(edge.parent) ? null : parentValues(pruned, edge);
  const needsWork = component.tables.some((table) => {
    const base = bases.get(qualifiedName(table)) as BaseSelection;
    // A virtual key inside the cycle may point at no row even when every row is selected.
    return (
      !base.complete ||
      graph
        .parentsOf(table)
        .some((edge) => outsideValues(edge) !== null || (edge.virtual && members.has(edge.parent)))
    );
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
        referenced: await completeReferenced(
          source,
          table,
          base.identity,
          virtuallyReferencedLists(graph, table),
        ),
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
      ...lists.flatMap((columns) => columnRefs(columns, 't')),
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
  // Which of the parent's loaded column lists an edge points at, found once per edge.
  const referencedList = new Map<ForeignKeyEdge, number>();
  for (const { edges, foreignKeys } of loaded.values()) {
    edges.forEach((edge, i) => {
      if (!members.has(edge.parent)) return;
      const parent = loaded.get(edge.parent) as LoadedTable;
      const listIndex = parent.lists.findIndex(
        (list) => columnListKey(list) === columnListKey(edge.referencedColumns),
      );
      referencedList.set(edge, listIndex);
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
      const value = parent.listValues[referencedList.get(edge) ?? -1]?.[row] ?? null;
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
    // Kept for a complete table too: virtual keys are checked against it (see parentValues).
    const referenced = new Map<string, KeySet>();
    entry.lists.forEach((columns, i) => {
      referenced.set(columnListKey(columns), KeySet.of(listValues[i] as Key[]));
    });
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
