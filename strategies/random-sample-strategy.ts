import { UsageError } from '../core/errors.js';
import { rowIdentity } from '../core/subset/row-identity.js';
import type { Strategy } from '../core/subset/strategy.js';
import { asOptions, optionProblems } from './option-problems.js';

export interface RandomSampleOptions {
  /** How many rows. Give count or percent. */
  readonly count?: number;
  /** Share of the table, 0 < percent ≤ 100. */
  readonly percent?: number;
  /** Same seed, same rows (for the same keys). Default 1. */
  readonly seed?: number;
  readonly name?: string;
}

/**
 * A repeatable random sample. Each row gets a keyed hash of its primary key and the seed; the
 * sample is the rows with the smallest hashes, so it depends on the keys and the seed only, not on
 * where rows sit on disk. Never an `ORDER BY random()` over a big table: a count is taken from a
 * hash range a few times larger than needed (sized from the table's row estimate), and only those
 * rows are sorted. A table without a key hashes its ctid, repeatable within one snapshot only.
 */
export function randomSample(options: RandomSampleOptions): Strategy {
  const given = asOptions<RandomSampleOptions>(options);
  const seed = given.seed ?? 1;
  const { count, percent } = given;
  const blocking = sampleProblems(given);
  const problems = [
    ...optionProblems('randomSample', options, ['count', 'percent', 'seed', 'name']),
    ...blocking,
  ];
  return {
    name: given.name ?? 'random-sample',
    describe: () => `random ${count !== undefined ? `${count} rows` : `${percent}%`} (seed ${seed})`,
    validate: () => problems,
    rows(table) {
      if (blocking.length > 0) throw new UsageError(`randomSample: ${blocking.join('; ')}`);
      const key = rowIdentity(table).expressions('t');
      const hash = `hashtextextended(${key.length === 1 ? key[0] : `(${key.join(', ')})`}::text, ${seed})`;
      if (percent !== undefined) {
        if (percent >= 100) return { kind: 'query' };
        return {
          kind: 'query',
          where: `${hash} < ${hashThreshold(percent / 100)}`,
          estimate: { fraction: percent / 100 },
        };
      }
      const wanted = count as number;
      // Four times the rows needed (plus some) leaves room for a stale estimate.
      const share = table.estimatedRows > 0 ? (4 * wanted + 1000) / table.estimatedRows : 1;
      return {
        kind: 'query',
        ...(share < 1 ? { narrow: `${hash} < ${hashThreshold(share)}` } : {}),
        orderBy: hash,
        limit: wanted,
        estimate: { rows: wanted },
      };
    },
  };
}

function sampleProblems({ count, percent, seed }: RandomSampleOptions): string[] {
  const problems: string[] = [];
  if ((count === undefined) === (percent === undefined)) problems.push('give either count or percent');
  if (count !== undefined && !(Number.isInteger(count) && count >= 0))
    problems.push('count must be a whole number ≥ 0');
  if (percent !== undefined && !(percent > 0 && percent <= 100))
    problems.push('percent must be > 0 and ≤ 100');
  if (seed !== undefined && !Number.isSafeInteger(seed)) problems.push('seed must be a whole number');
  return problems;
}

/** The int8 below which `share` of uniformly spread hashes fall. */
function hashThreshold(share: number): string {
  const parts = 1_000_000_000n;
  const scaled = BigInt(Math.round(Math.min(share, 1) * Number(parts)));
  return String(-(2n ** 63n) + (scaled * 2n ** 64n) / parts);
}
