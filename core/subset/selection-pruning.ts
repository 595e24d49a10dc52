import type { TableInfo } from '../schema/schema-model.js';
import type { Source } from '../source/source.js';
import { pruneCycle } from './cycle-pruning.js';
import type { ForeignKeyGraph } from './foreign-key-graph.js';
import type { PrunedTable } from './pruned-table.js';
import type { BaseSelection } from './selection-closure.js';
import { pruneTable } from './table-pruning.js';

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
