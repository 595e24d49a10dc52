import type { ResolvedConfig } from '../config/resolve-config.js';
import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { ForeignKeyEdge, ForeignKeyGraph } from './foreign-key-graph.js';
import { describePropagation, type Propagation } from './propagation.js';

export interface ReasonsInput {
  readonly graph: ForeignKeyGraph;
  readonly config: ResolvedConfig;
  readonly table: TableInfo;
  readonly reason: 'configured' | 'default strategy';
  readonly strategies: readonly { readonly name: string; readonly description: string }[];
  readonly propagations: readonly Propagation[];
  /** The tables decided together with this one (see selectionUnits). */
  readonly unit: readonly TableInfo[];
  /** Whether the edge's parent exports only part of its rows. */
  readonly partialParent: (edge: ForeignKeyEdge) => boolean;
}

/** Why a table holds what it holds, one sentence each, for `devsnap plan`. */
export function reasonsFor(input: ReasonsInput): string[] {
  const { graph, table, strategies, propagations, unit } = input;
  const reasons: string[] = [];
  const how = input.reason;
  if (strategies.length === 0) reasons.push(`${how}: no strategies, so no rows of its own`);
  for (const strategy of strategies) reasons.push(`${how}: "${strategy.name}" picks ${strategy.description}`);
  const limited = (input.config.tables.get(qualifiedName(table))?.strategies ?? []).filter((strategy) => {
    const rows = strategy.rows(table);
    return rows.kind === 'query' && rows.limit !== undefined;
  });
  if (limited.length > 0) {
    const restricting = graph
      .parentsOf(table)
      .filter((edge) => edge.policy !== 'nullify' && input.partialParent(edge));
    const before = restricting
      .filter((edge) => !unit.includes(edge.parent))
      .map((e) => qualifiedName(e.parent));
    const after = restricting
      .filter((edge) => unit.includes(edge.parent))
      .map((e) => qualifiedName(e.parent));
    const names = limited.map((strategy) => `"${strategy.name}"`).join(', ');
    if (before.length > 0)
      reasons.push(`${names} picks among rows whose ${[...new Set(before)].join(', ')} rows are exported`);
    if (after.length > 0)
      reasons.push(
        `${names} picks first, then keys to ${[...new Set(after)].join(', ')} prune: they are decided together with this table (a cycle, include-parents or referencedBy)`,
      );
  }
  for (const propagation of propagations) {
    if (propagation.to !== table) continue;
    const what =
      propagation.direction === 'parents'
        ? `rows that selected ${qualifiedName(propagation.from)} rows reference`
        : `rows that reference selected ${qualifiedName(propagation.from)} rows`;
    reasons.push(`${describePropagation(propagation)} adds ${what}`);
  }
  // Keys to a parent exported whole cannot drop or null anything: not worth a line.
  const declared = graph
    .parentsOf(table)
    .filter((edge) => edge.virtual === null && input.partialParent(edge));
  for (const edge of declared) {
    const parent = qualifiedName(edge.parent);
    if (edge.policy === 'nullify') {
      reasons.push(`nullify on ${edge.name}: the key is set to NULL where its ${parent} row is not exported`);
    } else if (edge.policy === 'include-parents') {
      reasons.push(`include-parents on ${edge.name}: the ${parent} rows it references are exported too`);
    } else reasons.push(`restrict on ${edge.name}: rows whose ${parent} row is not exported are dropped`);
  }
  reasons.push(...virtualReasons(input));
  const cycle = graph.componentOf(table);
  if (cycle.cyclic) {
    const others = cycle.tables.filter((t) => t !== table).map(qualifiedName);
    reasons.push(
      others.length > 0
        ? `in a cycle of foreign keys with ${others.join(', ')}: rows that reference each other are kept together`
        : 'references itself: a row is kept when the rows it points at are',
    );
  }
  return reasons;
}

/** One sentence per virtual relation of the table (a polymorphic one has an edge per parent). */
function virtualReasons({ config, table }: ReasonsInput): string[] {
  return config.relations
    .filter((relation) => relation.child === table)
    .map((relation) => {
      const origin =
        relation.origin === 'config'
          ? 'virtual relation'
          : relation.origin === 'django'
            ? 'Django generic relation (detected)'
            : 'Rails polymorphic association (detected)';
      const parents = relation.targets.map((target) => qualifiedName(target.parent));
      const shown =
        parents.length > 6
          ? `${parents.slice(0, 6).join(', ')} and ${parents.length - 6} more`
          : parents.join(', ');
      const by = relation.discriminator ? ` by ${relation.discriminator.name}` : '';
      const policy = config.relationPolicy(relation);
      const effect =
        policy === 'nullify'
          ? 'set to NULL where its row is not exported'
          : policy === 'include-parents'
            ? 'its rows are exported too'
            : 'rows whose target is not exported are dropped';
      const unmapped =
        relation.unmapped.length > 0
          ? `; ${relation.unmapped.length} value${relation.unmapped.length === 1 ? '' : 's'} of ${relation.discriminator?.name} name no table (${relation.unmapped.slice(0, 5).join(', ')}): such rows are not checked`
          : '';
      return `${policy} on ${origin} ${relation.name} → ${shown}${by}: ${effect}${unmapped}`;
    });
}
