import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { ForeignKeyGraph } from './foreign-key-graph.js';
import type { Propagation } from './propagation.js';
import { stronglyConnectedComponents } from './strongly-connected-components.js';

/**
 * Tables whose selections are decided together, in the order they are decided: a table depends on
 * the parents of its foreign keys and on the tables whose rows grow its own (include-parents
 * makes a parent depend on its child; a related strategy on the table it names). Tables that
 * depend on each other (a cycle of keys, an include-parents key, a referencedBy strategy) form one
 * unit. Every table of an earlier unit is final when a unit starts, so its limits (count, latest)
 * pick among rows whose parents in earlier units are exported; inside a unit they pick first and
 * the unit's own keys prune after.
 */
export function selectionUnits(graph: ForeignKeyGraph, propagations: readonly Propagation[]): TableInfo[][] {
  const dependencies = new Map<string, Set<TableInfo>>();
  const add = (table: TableInfo, on: TableInfo) => {
    const name = qualifiedName(table);
    const set = dependencies.get(name) ?? new Set<TableInfo>();
    set.add(on);
    dependencies.set(name, set);
  };
  for (const edge of graph.edges) add(edge.child, edge.parent);
  for (const propagation of propagations) add(propagation.to, propagation.from);
  // Graph order first, so units without links between them keep the order of the foreign-key graph.
  return stronglyConnectedComponents(graph.orderedTables(), (table) => [
    ...(dependencies.get(qualifiedName(table)) ?? []),
  ]);
}
