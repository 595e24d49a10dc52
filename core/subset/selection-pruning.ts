import type { TableInfo } from '../schema/schema-model.js';
import { pruneCycle } from './cycle-pruning.js';
import type { PruneContext } from './pruned-table.js';
import { pruneTable } from './table-pruning.js';

/**
 * Drops every row whose foreign key (restrict or include-parents) points at a parent row that is
 * not exported, repeating while drops cascade: the greatest set in which every such key is
 * satisfied, so rows that only reference each other (a cycle, all selected) are kept. A unit's
 * tables are pruned parents first against final earlier units; a cycle of tables is pruned in
 * memory, over its selected rows only.
 */
export async function pruneUnit(context: PruneContext, unit: readonly TableInfo[]): Promise<void> {
  const members = new Set(unit);
  // A unit is made of whole components of the foreign-key graph, pruned in that graph's order.
  for (const component of context.graph.components) {
    if (!members.has(component.tables[0] as TableInfo)) continue;
    if (component.cyclic) await pruneCycle(context, component);
    else await pruneTable(context, component.tables[0] as TableInfo);
  }
}
