import type { Strategy } from '../core/subset/strategy.js';
import { optionProblems } from './option-problems.js';

export interface RelatedOptions {
  /** Constraint name, when several foreign keys link the two tables; all of them otherwise. */
  readonly foreignKey?: string;
  readonly name?: string;
}

/**
 * The rows that another table's selected rows reference, e.g. on `public.language`:
 * `referencedBy('public.film')` picks the languages of the exported films.
 */
export function referencedBy(table: string, options: RelatedOptions = {}): Strategy {
  return {
    name: options.name ?? `referenced-by ${table}`,
    validate: () => optionProblems('referencedBy', options, ['foreignKey', 'name']),
    describe: () => `rows referenced by ${table}${options.foreignKey ? ` (${options.foreignKey})` : ''}`,
    rows: () => ({
      kind: 'related',
      direction: 'referenced-by',
      table,
      ...(options.foreignKey ? { foreignKey: options.foreignKey } : {}),
    }),
  };
}
