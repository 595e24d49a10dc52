import type { TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import { encodeKey, type Key } from './key-set.js';
import type { ParentCheck } from './pruned-table.js';
import { KEY_BATCH_SIZE, rowIdentity } from './row-identity.js';
import { type QueryRows, strategySelect } from './selection-closure.js';
import { childKeyCondition, childKeyNullCondition, foreignKeyExpressions } from './selection-reader.js';

/** Rows asked for in the first page of a limited pick whose checks run here, before doubling. */
const FIRST_PAGE_ROWS = 1000;

/**
 * The keys of the first `rows.limit` rows (by the strategy's order, ties by key) among those that
 * pass `checks`: each row's key to an earlier table is NULL or among the values it exports. A
 * check with few values becomes part of the query, so the server applies the limit; checks with
 * many values run here over pages of ranked rows (each row carries its rank, as the Data API
 * returns a page in key order), pages doubling until enough rows pass or none are left.
 */
export async function pickRestricted(
  source: Source,
  table: TableInfo,
  rows: QueryRows,
  checks: readonly ParentCheck[],
): Promise<Key[]> {
  const limit = rows.limit as number;
  if (limit === 0) return [];
  const params = [...(rows.params ?? [])];
  const conditions: string[] = [];
  const local: ParentCheck[] = [];
  for (const check of checks) {
    if (check.values.size > KEY_BATCH_SIZE) {
      local.push(check);
      continue;
    }
    const unset = childKeyNullCondition(check.edge, 't');
    const values = [...check.values];
    const matches = values.length > 0 ? childKeyCondition(check.edge, 't', values, params.length + 1) : null;
    if (matches) params.push(...matches.params);
    const either = [unset, matches?.sql].filter((part): part is string => Boolean(part));
    conditions.push(either.length > 0 ? `(${either.join(' OR ')})` : 'false');
  }
  const identity = rowIdentity(table).expressions('t');
  const keys: Key[] = [];
  if (local.length === 0) {
    const select = strategySelect(table, rows, identity, conditions);
    for await (const batch of source.streamRows(select, { params })) {
      for (const row of batch) {
        const key = encodeKey(row);
        if (key !== null) keys.push(key);
      }
    }
  } else {
    const order = rows.orderBy ? `${rows.orderBy}, ${identity.join(', ')}` : identity.join(', ');
    const checked = local.flatMap((check) => foreignKeyExpressions(check.edge, 't'));
    const expressions = [...identity, ...checked, `row_number() OVER (ORDER BY ${order}) AS devsnap_rank`];
    let offset = 0;
    for (let size = Math.max(FIRST_PAGE_ROWS, 2 * limit); keys.length < limit; size *= 2) {
      const paged: QueryRows = { ...rows, limit: undefined, orderBy: undefined };
      const select = `${strategySelect(table, paged, expressions, conditions)} ORDER BY ${order} LIMIT ${size} OFFSET ${offset}`;
      const page: TextValue[][] = [];
      for await (const batch of source.streamRows(select, { params })) page.push(...batch);
      page.sort((a, b) => Number(a[a.length - 1]) - Number(b[b.length - 1]));
      for (const row of page) {
        if (keys.length >= limit) break;
        if (passes(row, identity.length, local)) keys.push(encodeKey(row.slice(0, identity.length)) as Key);
      }
      if (page.length < size) break;
      offset += size;
    }
  }
  if (rows.narrow && keys.length < limit) {
    // The narrowing condition held too few rows that pass: look at every row instead.
    return pickRestricted(source, table, { ...rows, narrow: undefined }, checks);
  }
  return keys;
}

function passes(row: readonly TextValue[], offset: number, checks: readonly ParentCheck[]): boolean {
  let position = offset;
  for (const check of checks) {
    const width = check.edge.columns.length;
    const value = encodeKey(row.slice(position, position + width));
    position += width;
    if (value !== null && !check.values.has(value)) return false;
  }
  return true;
}
