import { quoteIdent } from '../core/schema/schema-model.js';
import type { Strategy } from '../core/subset/strategy.js';

export interface LatestOptions {
  /** Column(s) that order rows; the latest come first (descending, NULLs last). */
  readonly orderBy: string | readonly string[];
  readonly name?: string;
}

/** The newest `count` rows by a column, e.g. `latest(500, { orderBy: 'rental_date' })`. Ties break by key. */
export function latest(count: number, options: LatestOptions): Strategy {
  const columns = typeof options.orderBy === 'string' ? [options.orderBy] : [...options.orderBy];
  return {
    name: options.name ?? 'latest',
    describe: () => `latest ${count} by ${columns.join(', ')}`,
    validate: (table) => [
      ...(Number.isInteger(count) && count >= 0 ? [] : ['latest: count must be a whole number ≥ 0']),
      ...(columns.length === 0 ? ['latest: orderBy names no column'] : []),
      ...columns
        .filter((column) => !table.columns.some((c) => c.name === column))
        .map((column) => `latest: no column ${column} to order by`),
    ],
    rows: () => ({
      kind: 'query',
      orderBy: columns.map((column) => `t.${quoteIdent(column)} DESC NULLS LAST`).join(', '),
      limit: count,
      estimate: { rows: count },
    }),
  };
}
