import { type ColumnInfo, quoteIdent, quoteQualified, type TableInfo } from '../schema/schema-model.js';
import { decodeKey, type Key } from './key-set.js';

/**
 * How the engine tells one row of a table from another: its primary key, else a unique key whose
 * columns are all NOT NULL, else `ctid` (with `tableoid` for a partitioned table). A ctid is
 * stable inside the export's REPEATABLE READ transaction, which is the only place it is used.
 */
export interface RowIdentity {
  /** Key columns, or null when rows are identified by ctid. */
  readonly columns: readonly ColumnInfo[] | null;
  /** Types a key batch is cast to (`int8`, `tid`, a column's declared type, …). */
  readonly types: readonly string[];
  /** SQL for the key of the table aliased `alias`. */
  expressions(alias: string): string[];
  /** False for (tableoid, ctid): no index finds those, so such a table is scanned instead. */
  readonly indexed: boolean;
}

export function rowIdentity(table: TableInfo): RowIdentity {
  const key =
    table.primaryKey ??
    table.uniqueConstraints.find((unique) =>
      unique.columns.every((name) => !columnNamed(table, name).nullable),
    );
  if (key) {
    const columns = key.columns.map((name) => columnNamed(table, name));
    return {
      columns,
      types: columns.map((column) => column.dataType),
      expressions: (alias) => columnRefs(columns, alias),
      indexed: true,
    };
  }
  if (table.kind === 'partitioned') {
    return {
      columns: null,
      types: ['oid', 'tid'],
      expressions: (alias) => [`${alias}.tableoid`, `${alias}.ctid`],
      indexed: false,
    };
  }
  return { columns: null, types: ['tid'], expressions: (alias) => [`${alias}.ctid`], indexed: true };
}

/** Each column as `alias."column"`, for SELECT lists and conditions. */
export function columnRefs(columns: readonly { readonly name: string }[], alias: string): string[] {
  return columns.map((column) => `${alias}.${quoteIdent(column.name)}`);
}

export function columnNamed(table: TableInfo, name: string): ColumnInfo {
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw new Error(`${table.schema}.${table.name} has no column ${name}`);
  return column;
}

/**
 * The table aliased `alias` in a FROM clause. ONLY keeps rows of legacy inheritance children out
 * (they are exported as tables of their own); a partitioned table is read with its partitions.
 */
export function fromTable(table: TableInfo, alias: string): string {
  return `${table.kind === 'partitioned' ? '' : 'ONLY '}${quoteQualified(table)} ${alias}`;
}

/** A PostgreSQL array literal of text values, for one text parameter cast to an array type. */
export function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * A condition matching rows whose `expressions` equal one of `keys`. The keys travel as one text
 * parameter per column cast to an array, never inlined: the statement stays small, and the RDS
 * Data API (no array parameters) can run it too.
 */
export function keyBatchCondition(
  expressions: readonly string[],
  types: readonly string[],
  keys: readonly Key[],
  firstParam: number,
): { sql: string; params: string[] } {
  const arity = expressions.length;
  const columns: string[][] = expressions.map(() => []);
  for (const key of keys) {
    const values = decodeKey(key, arity);
    for (let i = 0; i < arity; i++) (columns[i] as string[]).push(values[i] as string);
  }
  const params = columns.map(arrayLiteral);
  const casts = types.map((type, i) => `$${firstParam + i}::${type}[]`);
  if (arity === 1) return { sql: `${expressions[0]} = ANY(${casts[0]})`, params };
  return {
    sql: `(${expressions.join(', ')}) IN (SELECT * FROM unnest(${casts.join(', ')}))`,
    params,
  };
}

/**
 * Like keyBatchCondition, as a join (`FROM t <join>`): for a composite key the planner then looks
 * each key up through the index instead of first de-duplicating the batch. The batch must not
 * repeat a key.
 */
export function keyBatchJoin(
  expressions: readonly string[],
  types: readonly string[],
  keys: readonly Key[],
  firstParam: number,
): { sql: string; params: string[] } {
  const { params } = keyBatchCondition(expressions, types, keys, firstParam);
  const names = expressions.map((_, i) => `k${i}`);
  const casts = types.map((type, i) => `$${firstParam + i}::${type}[]`);
  const on = expressions.map((expression, i) => `${expression} = k.${names[i]}`).join(' AND ');
  return { sql: `JOIN unnest(${casts.join(', ')}) AS k(${names.join(', ')}) ON ${on}`, params };
}

/** Keys per batch: a few thousand keep each statement and its result well under 1 MiB. */
export const KEY_BATCH_SIZE = 5000;
const KEY_BATCH_CHARS = 256 * 1024;

/** Splits keys into batches bounded by count and by their text size. */
export function* boundedKeyBatches(keys: Iterable<Key>, maxKeys = KEY_BATCH_SIZE): Iterable<Key[]> {
  let batch: Key[] = [];
  let chars = 0;
  for (const key of keys) {
    batch.push(key);
    chars += typeof key === 'number' ? 12 : key.length + 4;
    if (batch.length >= maxKeys || chars >= KEY_BATCH_CHARS) {
      yield batch;
      batch = [];
      chars = 0;
    }
  }
  if (batch.length > 0) yield batch;
}
