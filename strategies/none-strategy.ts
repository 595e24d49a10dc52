import type { Strategy } from '../core/subset/strategy.js';
import { optionProblems } from './option-problems.js';

/**
 * No rows of its own: the table is created empty, except for rows other tables pull in through an
 * include-parents foreign key or a related strategy.
 */
export function none(options: { readonly name?: string } = {}): Strategy {
  return {
    name: options.name ?? 'none',
    validate: () => optionProblems('none', options, ['name']),
    describe: () => 'no rows',
    rows: () => ({ kind: 'none' }),
  };
}
