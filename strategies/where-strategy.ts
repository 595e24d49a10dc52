import type { SqlParameter } from '../core/source/queryable.js';
import type { Strategy } from '../core/subset/strategy.js';
import { optionProblems } from './option-problems.js';

/**
 * Rows matching a SQL condition over the table aliased `t`, e.g.
 * `where('t.created_at > $1', ['2024-01-01'])`. `$1…$n` refer to `params`; the source refuses a
 * condition that could write.
 */
export function where(
  condition: string,
  params: readonly SqlParameter[] = [],
  options: { readonly name?: string } = {},
): Strategy {
  return {
    name: options.name ?? 'where',
    describe: () =>
      `where ${condition}${params.length > 0 ? ` [${params.map((p) => JSON.stringify(p)).join(', ')}]` : ''}`,
    validate: () => [
      ...(condition.trim() === '' ? ['where: the condition is empty'] : []),
      ...optionProblems('where', options, ['name']),
    ],
    rows: () => ({ kind: 'query', where: `(${condition})`, params }),
  };
}
