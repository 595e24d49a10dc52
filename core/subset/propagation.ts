import { configError, type ResolvedConfig } from '../config/resolve-config.js';

import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { ForeignKeyEdge, ForeignKeyGraph } from './foreign-key-graph.js';

/**
 * A rule that grows one table's selection from another's: the include-parents policy of a foreign
 * key, or a table's referenced-by / referencing strategy.
 */
export interface Propagation {
  /** The table whose selected rows drive it. */
  readonly from: TableInfo;
  /** The table that gets rows. */
  readonly to: TableInfo;
  readonly edge: ForeignKeyEdge;
  /** `parents`: rows of `to` that `from`'s rows reference; `children`: rows of `to` that reference them. */
  readonly direction: 'parents' | 'children';
  /** The strategy of `to` that asks for it, or null for the include-parents policy of `edge`. */
  readonly strategy: string | null;
}

/**
 * Every propagation of a config. Related strategies must name a table linked to theirs by a foreign
 * key (the right way round); every problem is listed in one UsageError.
 */
export function subsetPropagations(graph: ForeignKeyGraph, config: ResolvedConfig): Propagation[] {
  const result: Propagation[] = [];
  const problems: string[] = [];
  for (const edge of graph.edges) {
    if (edge.policy === 'include-parents') {
      result.push({ from: edge.child, to: edge.parent, edge, direction: 'parents', strategy: null });
    }
  }
  for (const [name, resolved] of config.tables) {
    for (const strategy of resolved.strategies) {
      const rows = strategy.rows(resolved.table);
      if (rows.kind !== 'related') continue;
      const other = graph.table(rows.table);
      const parents = rows.direction === 'referenced-by';
      const candidates = parents
        ? graph.parentsOf(other).filter((edge) => edge.parent === resolved.table)
        : graph.childrenOf(other).filter((edge) => edge.child === resolved.table);
      const edges = rows.foreignKey
        ? candidates.filter(
            (edge) => edge.name.endsWith(`.${rows.foreignKey}`) || edge.name === rows.foreignKey,
          )
        : candidates;
      if (edges.length === 0) {
        const wanted = parents ? `from ${rows.table} to ${name}` : `from ${name} to ${rows.table}`;
        const named = rows.foreignKey ? ` named ${rows.foreignKey}` : '';
        const known = candidates.map((edge) => edge.name);
        problems.push(
          `tables.${name} (${strategy.name}): no foreign key${named} ${wanted}${known.length > 0 ? `; there are ${known.join(', ')}` : ''}`,
        );
        continue;
      }
      for (const edge of edges) {
        result.push({
          from: other,
          to: resolved.table,
          edge,
          direction: parents ? 'parents' : 'children',
          strategy: strategy.name,
        });
      }
    }
  }
  if (problems.length > 0) {
    throw configError(
      problems,
      'Name a table linked to this one by a foreign key, and the foreign key when there are several.',
    );
  }
  return result;
}

/** How a propagation is named in plans, stats and errors. */
export function describePropagation(propagation: Propagation): string {
  return propagation.strategy === null
    ? `include-parents on ${propagation.edge.name}`
    : `strategy "${propagation.strategy}" (${propagation.direction === 'parents' ? 'referenced by' : 'referencing'} ${qualifiedName(propagation.from)} through ${propagation.edge.name})`;
}
