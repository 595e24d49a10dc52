import type { ResolvedConfig } from '../config/resolve-config.js';
import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { Queryable, SqlParameter } from '../source/queryable.js';
import type { Source, TextValue } from '../source/source.js';
import { ConfigSqlError, configSql } from '../sql/config-sql.js';
import type { ForeignKeyGraph } from './foreign-key-graph.js';
import { childKeyLookup, parentKeyLookup } from './key-expressions.js';
import { encodeKey, type Key, KeySet } from './key-set.js';
import type { Propagation } from './propagation.js';
import { type ParentCheck, type PrunedTable, parentValues } from './pruned-table.js';
import { pickRestricted } from './restricted-pick.js';
import {
  boundedKeyBatches,
  fromTable,
  keyBatchCondition,
  type RowIdentity,
  rowIdentity,
} from './row-identity.js';
import { childKeyCondition } from './selection-reader.js';
import type { StrategyRows } from './strategy.js';

/** A table's rows before foreign-key pruning: every row, or the keys its strategies and rules picked. */
export interface BaseSelection {
  readonly table: TableInfo;
  readonly identity: RowIdentity;
  /** Every row (an all-rows strategy): no key set is kept. */
  readonly complete: boolean;
  /** Row count of a complete table. */
  readonly completeRows: number;
  /** Selected keys when not complete. */
  readonly keys: KeySet;
  /** Rows per strategy: what a query strategy picked; what a related strategy added beyond earlier picks. */
  readonly strategyRows: Map<string, number>;
  /** Rows added through each include-parents foreign key (by edge name). */
  readonly includedBy: Map<string, number>;
}

export type QueryRows = Extract<StrategyRows, { kind: 'query' }>;

/** A query strategy that picks every row: nothing to filter, sample or limit. */
export function picksEveryRow(rows: StrategyRows): boolean {
  return rows.kind === 'query' && !rows.where && !rows.sample && rows.limit === undefined;
}

/**
 * The SELECT of a query strategy, returning `expressions` of the table aliased `t`, with devsnap's own
 * `conditions` added. The strategy's SQL (where, narrow, sample, orderBy) goes in rebuilt from its
 * parse tree (configSql), each part exactly one expression of its kind.
 */
export function strategySelect(
  table: TableInfo,
  rows: QueryRows,
  expressions: readonly string[],
  conditions: readonly string[] = [],
): string {
  const identity = rowIdentity(table).expressions('t');
  if (rows.limit !== undefined && !(Number.isSafeInteger(rows.limit) && rows.limit >= 0)) {
    throw new ConfigSqlError(`its limit must be a whole number ≥ 0, not ${JSON.stringify(rows.limit)}`);
  }
  const where = [
    ...[rows.where, rows.narrow].filter((c): c is string => Boolean(c)).map((c) => configSql('condition', c)),
    ...conditions,
  ];
  return [
    `SELECT ${expressions.join(', ')} FROM ${fromTable(table, 't')}`,
    rows.sample ? ` ${configSql('sample', rows.sample)}` : '',
    where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '',
    // The key breaks ties, so a LIMIT picks the same rows every time it runs in the snapshot.
    rows.orderBy
      ? ` ORDER BY ${configSql('orderBy', rows.orderBy)}, ${identity.join(', ')}`
      : rows.limit !== undefined
        ? ` ORDER BY ${identity.join(', ')}`
        : '',
    rows.limit !== undefined ? ` LIMIT ${rows.limit}` : '',
  ].join('');
}

/** What a unit's selection reads from the units decided before it. */
export interface UnitContext {
  readonly source: Source;
  readonly config: ResolvedConfig;
  readonly propagations: readonly Propagation[];
  /** Selections of every table so far (this unit's are added). */
  readonly bases: Map<string, BaseSelection>;
  /** Final rows of the tables of earlier units. */
  readonly pruned: ReadonlyMap<string, PrunedTable>;
}

/**
 * Seeds every table of one unit with the union of its strategies — a strategy's limit picks among
 * the rows whose restrict keys to earlier units point at exported rows — then applies
 * include-parents and related strategies until nothing changes. Each round only follows the keys
 * added in the previous one, so self-references and cycles terminate (sets only grow, and they are
 * finite). Rules driven by an earlier unit read its final rows.
 */
export async function selectUnitBase(
  context: UnitContext,
  graph: ForeignKeyGraph,
  unit: readonly TableInfo[],
): Promise<void> {
  const { source, config, propagations, bases, pruned } = context;
  const members = new Set(unit);
  const frontier = new Map<string, Key[]>();
  for (const table of unit) {
    const name = qualifiedName(table);
    const resolved = config.tables.get(name);
    const strategies = resolved?.strategies ?? [];
    const identity = rowIdentity(table);
    const complete = strategies.some((strategy) => picksEveryRow(strategy.rows(table)));
    const base: BaseSelection = {
      table,
      identity,
      complete,
      completeRows: complete ? await countRows(source, `SELECT 1 FROM ${fromTable(table, 't')}`) : 0,
      keys: new KeySet(),
      strategyRows: new Map(),
      includedBy: new Map(),
    };
    bases.set(name, base);
    // Keys to tables decided earlier: a limit picks among the rows they let through.
    const restrictions = graph
      .parentsOf(table)
      .filter((edge) => edge.policy !== 'nullify' && !members.has(edge.parent))
      .map((edge) => ({ edge, values: parentValues(pruned, edge) }))
      .filter((check): check is ParentCheck => check.values !== null);
    for (const strategy of strategies) {
      const rows = strategy.rows(table);
      if (rows.kind === 'none' || rows.kind === 'related') {
        base.strategyRows.set(strategy.name, 0);
      } else if (picksEveryRow(rows)) {
        base.strategyRows.set(strategy.name, base.completeRows);
      } else if (complete) {
        // The table is whole anyway; count what the strategy would have picked, for the record.
        base.strategyRows.set(
          strategy.name,
          await countRows(source, strategySelect(table, rows, ['1']), rows.params ?? []),
        );
      } else {
        const keys =
          rows.limit !== undefined && restrictions.length > 0
            ? await pickRestricted(source, table, rows, restrictions)
            : await pickKeys(source, table, rows);
        base.strategyRows.set(strategy.name, keys.length);
        base.keys.addAll(keys);
      }
    }
    if (!complete && base.keys.size > 0) frontier.set(name, [...base.keys]);
  }

  const grow = async (propagation: Propagation, found: readonly Key[]) => {
    const target = bases.get(qualifiedName(propagation.to)) as BaseSelection;
    const added = target.keys.addAll(found);
    if (added.length === 0) return;
    if (propagation.strategy !== null) {
      target.strategyRows.set(
        propagation.strategy,
        (target.strategyRows.get(propagation.strategy) ?? 0) + added.length,
      );
    } else {
      target.includedBy.set(
        propagation.edge.name,
        (target.includedBy.get(propagation.edge.name) ?? 0) + added.length,
      );
    }
    const name = qualifiedName(propagation.to);
    const pending = frontier.get(name);
    if (pending) for (const key of added) pending.push(key);
    else frontier.set(name, added);
  };
  const linked = async (propagation: Propagation, keys: readonly Key[] | null): Promise<Key[]> => {
    const found: Key[] = [];
    const from = bases.get(qualifiedName(propagation.from)) as BaseSelection;
    const target = bases.get(qualifiedName(propagation.to)) as BaseSelection;
    for (const batch of keys === null ? [null] : boundedKeyBatches(keys)) {
      const { sql, params } = propagationSelect(propagation, from.identity, target.identity, batch);
      for await (const rows of source.streamRows(sql, { params })) collectKeys(rows, found);
    }
    return found;
  };

  const inward = propagations.filter((p) => members.has(p.to));
  for (const propagation of inward) {
    const target = bases.get(qualifiedName(propagation.to)) as BaseSelection;
    if (target.complete) continue;
    if (!members.has(propagation.from)) {
      // An earlier unit is final: its exported rows drive the rule once.
      await grow(propagation, await linkedToFinal(source, propagation, pruned, target.identity));
    } else if ((bases.get(qualifiedName(propagation.from)) as BaseSelection).complete) {
      // A complete table drives its rules once, as server-side semi-joins over the whole table.
      await grow(propagation, await linked(propagation, null));
    }
  }
  while (frontier.size > 0) {
    const [name, keys] = frontier.entries().next().value as [string, Key[]];
    frontier.delete(name);
    for (const propagation of inward) {
      if (qualifiedName(propagation.from) !== name) continue;
      if ((bases.get(qualifiedName(propagation.to)) as BaseSelection).complete) continue;
      await grow(propagation, await linked(propagation, keys));
    }
  }
}

function collectKeys(rows: readonly TextValue[][], into: Key[]): void {
  for (const row of rows) {
    const key = encodeKey(row);
    if (key !== null) into.push(key);
  }
}

/** The keys of the rows a query strategy picks. */
async function pickKeys(source: Source, table: TableInfo, rows: QueryRows): Promise<Key[]> {
  const keys: Key[] = [];
  const select = strategySelect(table, rows, rowIdentity(table).expressions('t'));
  for await (const batch of source.streamRows(select, { params: rows.params ?? [] }))
    collectKeys(batch, keys);
  if (rows.narrow && rows.limit !== undefined && keys.length < rows.limit) {
    // The narrowing condition held too few rows (a stale estimate): look at every row instead.
    return pickKeys(source, table, { ...rows, narrow: undefined });
  }
  return keys;
}

/**
 * The keys of `to` rows that reference (children) the final rows of an earlier unit's table,
 * matched on the server by the values that table exports, batch by batch.
 */
async function linkedToFinal(
  source: Source,
  propagation: Propagation,
  pruned: ReadonlyMap<string, PrunedTable>,
  toIdentity: RowIdentity,
): Promise<Key[]> {
  const found: Key[] = [];
  const { edge } = propagation;
  const values = parentValues(pruned, edge);
  if (values === null) {
    const { sql, params } = propagationSelect(propagation, rowIdentity(propagation.from), toIdentity, null);
    for await (const rows of source.streamRows(sql, { params })) collectKeys(rows, found);
    return found;
  }
  for (const batch of boundedKeyBatches(values)) {
    const condition = childKeyCondition(edge, 't', batch, 1);
    const sql = `SELECT ${toIdentity.expressions('t').join(', ')} FROM ${fromTable(propagation.to, 't')} WHERE ${condition.sql}`;
    for await (const rows of source.streamRows(sql, { params: condition.params })) collectKeys(rows, found);
  }
  return found;
}

/**
 * The keys of `to` rows linked to a batch of `from` rows (all of them when `batch` is null),
 * joined on the server: only the batch of keys travels, as one parameter per key column.
 */
function propagationSelect(
  propagation: Propagation,
  fromIdentity: RowIdentity,
  toIdentity: RowIdentity,
  batch: readonly Key[] | null,
): { sql: string; params: string[] } {
  const { edge } = propagation;
  // Columns as they are: the server compares across types, and the indexes on them apply.
  const child = (alias: string) => childKeyLookup(edge, alias).sql;
  const [toColumns, fromColumns] =
    propagation.direction === 'parents'
      ? [parentKeyLookup(edge, 't'), child('s')]
      : [child('t'), parentKeyLookup(edge, 's')];
  const condition =
    batch === null ? null : keyBatchCondition(fromIdentity.expressions('s'), fromIdentity.types, batch, 1);
  const sql =
    `SELECT ${toIdentity.expressions('t').join(', ')} FROM ${fromTable(propagation.to, 't')} ` +
    `WHERE (${toColumns.join(', ')}) IN (SELECT ${fromColumns.join(', ')} FROM ${fromTable(propagation.from, 's')}` +
    `${condition ? ` WHERE ${condition.sql}` : ''})`;
  return { sql, params: condition?.params ?? [] };
}

/** How many rows `select` returns, counted on the server. */
export async function countRows(
  source: Queryable,
  select: string,
  params: readonly SqlParameter[] = [],
): Promise<number> {
  const rows = await source.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM (${select}) counted`,
    params,
  );
  return Number(rows[0]?.n ?? 0);
}
