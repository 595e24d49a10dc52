import type { ResolvedConfig } from '../config/resolve-config.js';
import { qualifiedName, type TableInfo } from '../schema/schema-model.js';
import type { Queryable, SqlParameter } from '../source/queryable.js';
import type { Source } from '../source/source.js';
import { encodeKey, type Key, KeySet } from './key-set.js';
import type { Propagation } from './propagation.js';
import {
  boundedKeyBatches,
  columnRefs,
  fromTable,
  keyBatchCondition,
  type RowIdentity,
  rowIdentity,
} from './row-identity.js';
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

type QueryRows = Extract<StrategyRows, { kind: 'query' }>;

/** A query strategy that picks every row: nothing to filter, sample or limit. */
export function picksEveryRow(rows: StrategyRows): boolean {
  return rows.kind === 'query' && !rows.where && !rows.sample && rows.limit === undefined;
}

/** The SELECT of a query strategy, returning `expressions` of the table aliased `t`. */
export function strategySelect(table: TableInfo, rows: QueryRows, expressions: readonly string[]): string {
  const identity = rowIdentity(table).expressions('t');
  return [
    `SELECT ${expressions.join(', ')} FROM ${fromTable(table, 't')}`,
    rows.sample ? ` ${rows.sample}` : '',
    rows.where ? ` WHERE ${rows.where}` : '',
    // The key breaks ties, so a LIMIT picks the same rows every time it runs in the snapshot.
    rows.orderBy ? ` ORDER BY ${rows.orderBy}, ${identity.join(', ')}` : '',
    rows.limit !== undefined ? ` LIMIT ${rows.limit}` : '',
  ].join('');
}

/**
 * Seeds every table with the union of its strategies, then applies include-parents and related
 * strategies until nothing changes. Each round only follows the keys added in the previous one,
 * so self-references and cycles terminate (sets only grow, and they are finite).
 */
export async function selectBase(
  source: Source,
  config: ResolvedConfig,
  propagations: readonly Propagation[],
): Promise<Map<string, BaseSelection>> {
  const bases = new Map<string, BaseSelection>();
  const frontier = new Map<string, Key[]>();
  for (const [name, resolved] of config.tables) {
    const { table } = resolved;
    const identity = rowIdentity(table);
    const complete = resolved.strategies.some((strategy) => picksEveryRow(strategy.rows(table)));
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
    for (const strategy of resolved.strategies) {
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
        const keys: Key[] = [];
        const select = strategySelect(table, rows, identity.expressions('t'));
        for await (const batch of source.streamRows(select, { params: rows.params ?? [] })) {
          for (const row of batch) {
            const key = encodeKey(row);
            if (key !== null) keys.push(key);
          }
        }
        base.strategyRows.set(strategy.name, keys.length);
        base.keys.addAll(keys);
      }
    }
    if (!complete && base.keys.size > 0) frontier.set(name, [...base.keys]);
  }

  const grow = async (propagation: Propagation, keys: readonly Key[] | null) => {
    const target = bases.get(qualifiedName(propagation.to)) as BaseSelection;
    if (target.complete) return;
    const found: Key[] = [];
    const from = bases.get(qualifiedName(propagation.from)) as BaseSelection;
    const batches = keys === null ? [null] : boundedKeyBatches(keys);
    for (const batch of batches) {
      const { sql, params } = propagationSelect(propagation, from.identity, target.identity, batch);
      for await (const rows of source.streamRows(sql, { params })) {
        for (const row of rows) {
          const key = encodeKey(row);
          if (key !== null) found.push(key);
        }
      }
    }
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

  // A complete table drives its rules once, as server-side semi-joins over the whole table.
  for (const propagation of propagations) {
    if ((bases.get(qualifiedName(propagation.from)) as BaseSelection).complete) await grow(propagation, null);
  }
  while (frontier.size > 0) {
    const [name, keys] = frontier.entries().next().value as [string, Key[]];
    frontier.delete(name);
    for (const propagation of propagations) {
      if (qualifiedName(propagation.from) === name) await grow(propagation, keys);
    }
  }
  return bases;
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
  const [toSide, fromSide] =
    propagation.direction === 'parents'
      ? [edge.referencedColumns, edge.columns]
      : [edge.columns, edge.referencedColumns];
  const toColumns = columnRefs(toSide, 't');
  const fromColumns = columnRefs(fromSide, 's');
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
