import { quoteIdent, type TableInfo } from '../core/schema/schema-model.js';
import type { Strategy } from '../core/subset/strategy.js';
import { asOptions, optionProblems } from './option-problems.js';

export interface LatestOptions {
  /**
   * Column(s) that order rows, newest first. Plain names sort descending (NULLs last). In
   * django-devdata's form, when any name has a sign, `-published_at` sorts descending and
   * `published_at` ascending; `pk` stands for the primary key. Ties break by key.
   */
  readonly orderBy: string | readonly string[];
  readonly name?: string;
}

interface OrderTerm {
  readonly column: string;
  readonly descending: boolean;
}

/** The ordering terms: all descending, or django-devdata's `-field` form when any term has a sign. */
function orderTerms(orderBy: readonly string[]): OrderTerm[] {
  const signed = orderBy.some((term) => term.startsWith('-') || term.startsWith('+'));
  return orderBy.map((term) => {
    const column = term.replace(/^[-+]/, '');
    return { column, descending: signed ? term.startsWith('-') : true };
  });
}

/** `pk` names the primary key's columns (django-devdata's default order is `-pk`). */
function columnsOf(term: OrderTerm, table: TableInfo): string[] {
  return term.column === 'pk' && !table.columns.some((c) => c.name === 'pk')
    ? [...(table.primaryKey?.columns ?? [])]
    : [term.column];
}

/**
 * The newest `count` rows by a column, e.g. `latest(500, { orderBy: 'rental_date' })` or, as in
 * django-devdata, `latest(100, { orderBy: '-published_at' })`. Ties break by key. The rows are the
 * newest among those whose parents are exported (see Strategy).
 */
export function latest(count: number, options: LatestOptions): Strategy {
  const given = asOptions<Partial<LatestOptions>>(options);
  const orderBy = given.orderBy ?? [];
  const terms = orderTerms(typeof orderBy === 'string' ? [orderBy] : [...orderBy]);
  const problems = optionProblems(`latest(${count})`, options, ['orderBy', 'name'], ['orderBy']);
  return {
    name: given.name ?? 'latest',
    describe: () =>
      `latest ${count} by ${terms.map((term) => `${term.column}${term.descending ? '' : ' ascending'}`).join(', ')}`,
    validate: (table) => [
      ...problems,
      ...(Number.isInteger(count) && count >= 0 ? [] : ['latest: count must be a whole number ≥ 0']),
      ...(terms.length === 0 && given.orderBy !== undefined ? ['latest: orderBy names no column'] : []),
      ...terms
        .filter((term) => term.column === 'pk' && columnsOf(term, table).length === 0)
        .map(() => 'latest: orderBy pk, but the table has no primary key'),
      ...terms
        .flatMap((term) => columnsOf(term, table))
        .filter((column) => !table.columns.some((c) => c.name === column))
        .map((column) => `latest: no column ${column} to order by`),
    ],
    rows: (table) => ({
      kind: 'query',
      orderBy: terms
        .flatMap((term) =>
          columnsOf(term, table).map(
            (column) => `t.${quoteIdent(column)} ${term.descending ? 'DESC NULLS LAST' : 'ASC NULLS LAST'}`,
          ),
        )
        .join(', '),
      limit: count,
      estimate: { rows: count },
    }),
  };
}
