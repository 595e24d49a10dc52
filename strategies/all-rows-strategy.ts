import type { Strategy } from '../core/subset/strategy.js';
import { optionProblems } from './option-problems.js';

/** Every row of the table: the default strategy for tables a config does not mention. */
export function allRows(options: { readonly name?: string } = {}): Strategy {
  return {
    name: options.name ?? 'all-rows',
    validate: () => optionProblems('allRows', options, ['name']),
    describe: () => 'all rows',
    rows: () => ({ kind: 'query' }),
  };
}

export const allRowsStrategy: Strategy = allRows();
