import type { Strategy } from '../core/subset/strategy.js';
import { optionProblems } from './option-problems.js';
import type { RelatedOptions } from './referenced-by-strategy.js';

/**
 * The rows that reference another table's selected rows, e.g. on `public.payment`:
 * `referencing('public.rental')` picks the payments of the exported rentals.
 */
export function referencing(table: string, options: RelatedOptions = {}): Strategy {
  return {
    name: options.name ?? `referencing ${table}`,
    validate: () => optionProblems('referencing', options, ['foreignKey', 'name']),
    describe: () => `rows referencing ${table}${options.foreignKey ? ` (${options.foreignKey})` : ''}`,
    rows: () => ({
      kind: 'related',
      direction: 'referencing',
      table,
      ...(options.foreignKey ? { foreignKey: options.foreignKey } : {}),
    }),
  };
}
