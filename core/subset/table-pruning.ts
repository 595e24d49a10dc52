import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { TextValue } from '../source/source.js';
import type { ForeignKeyEdge } from './foreign-key-graph.js';
import { encodeKey, type Key, KeySet } from './key-set.js';
import {
  completeReferenced,
  drivingCheck,
  type FinalRows,
  increment,
  type ParentCheck,
  type PruneContext,
  parentValues,
  readSelection,
  referencedLists,
  virtuallyReferencedLists,
} from './pruned-table.js';
import { columnRefs } from './row-identity.js';
import type { BaseSelection } from './selection-closure.js';
import { columnListKey, foreignKeyExpressions, readRows } from './selection-reader.js';

/** Prunes a table outside any cycle, against its already pruned parents. */
export async function pruneTable(context: PruneContext, table: TableInfo): Promise<void> {
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
    const referenced = await completeReferenced(
      source,
      table,
      base.identity,
      virtuallyReferencedLists(graph, table),
    );
    pruned.set(name, { ...result, referenced, final: { kind: 'complete' }, rows: base.completeRows });
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
      for await (const batch of readRows(source, table, base.identity, base.keys, columnRefs(columns, 't'))) {
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
    ...lists.flatMap((columns) => columnRefs(columns, 't')),
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
  // Kept for a complete table too: virtual keys are checked against it (see parentValues).
  lists.forEach((columns, i) => {
    result.referenced.set(columnListKey(columns), KeySet.of(listValues[i] as Key[]));
  });
  pruned.set(name, { ...result, final, rows: kept });
}
