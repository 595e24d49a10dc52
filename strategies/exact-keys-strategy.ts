import { quoteIdent, type TableInfo } from '../core/schema/schema-model.js';
import { arrayLiteral } from '../core/subset/row-identity.js';
import type { Strategy } from '../core/subset/strategy.js';
import { optionProblems } from './option-problems.js';

type KeyPart = string | number | bigint;
/** One key: a value, or one value per column for a composite key. */
export type KeyValue = KeyPart | readonly KeyPart[];

export interface ExactKeysOptions {
  /** Columns the keys are values of; the primary key by default. */
  readonly columns?: readonly string[];
  readonly name?: string;
}

/**
 * Exactly these rows, e.g. the accounts a team tests with: `exactKeys([1, 42])`, or
 * `exactKeys([[1, 2], [3, 4]])` for a composite key. The keys travel as one array parameter
 * per column, however many there are.
 */
export function exactKeys(keys: readonly KeyValue[], options: ExactKeysOptions = {}): Strategy {
  const tuples = keys.map((key) => (Array.isArray(key) ? key : [key]) as readonly KeyPart[]);
  const columnsOf = (table: TableInfo) => options.columns ?? table.primaryKey?.columns ?? [];
  return {
    name: options.name ?? 'exact-keys',
    describe: () => `${keys.length} listed key${keys.length === 1 ? '' : 's'}`,
    validate(table) {
      const optionIssues = optionProblems('exactKeys', options, ['columns', 'name']);
      if (optionIssues.length > 0) return optionIssues;
      const columns = columnsOf(table);
      if (columns.length === 0)
        return ['exactKeys: the table has no primary key; name the key columns with { columns }'];
      const problems = columns
        .filter((column) => !table.columns.some((c) => c.name === column))
        .map((column) => `exactKeys: no column ${column}`);
      const wrong = tuples.filter((tuple) => tuple.length !== columns.length);
      if (wrong.length > 0)
        problems.push(
          `exactKeys: ${wrong.length} key(s) do not have ${columns.length} value(s), one per column of (${columns.join(', ')})`,
        );
      return problems;
    },
    rows(table) {
      const columns = columnsOf(table).map((name) => table.columns.find((c) => c.name === name));
      if (tuples.length === 0) return { kind: 'none' };
      const params = columns.map((_, i) => arrayLiteral(tuples.map((tuple) => String(tuple[i]))));
      const casts = columns.map((column, i) => `$${i + 1}::${column?.dataType ?? 'text'}[]`);
      const names = columns.map((column) => `t.${quoteIdent(column?.name ?? '')}`);
      const where =
        columns.length === 1
          ? `${names[0]} = ANY(${casts[0]})`
          : `(${names.join(', ')}) IN (SELECT * FROM unnest(${casts.join(', ')}))`;
      return { kind: 'query', where, params, estimate: { rows: tuples.length } };
    },
  };
}
