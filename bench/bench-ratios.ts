import type { BenchMeasurement, BenchRatio } from './bench-scenario.js';

/** The comparisons the benchmark exists for; each is computed only when both sides were measured. */
export const benchRatios: readonly BenchRatio[] = [
  {
    name: 'devsnap export / pg_dump',
    metric: 'durationMs',
    numerator: 'devsnap-export',
    denominator: 'pg-dump',
    meaning: 'time; below 1 means devsnap exports faster than pg_dump -Fc',
    goal: 1,
  },
  {
    name: 'devsnap export --jobs 2 / pg_dump -Fd -j2',
    metric: 'durationMs',
    numerator: 'devsnap-export-j2',
    denominator: 'pg-dump-j2',
    meaning: 'time, both with two connections (one per core here)',
  },
  {
    name: 'devsnap export --jobs 2 / devsnap export',
    metric: 'durationMs',
    numerator: 'devsnap-export-j2',
    denominator: 'devsnap-export',
    meaning: 'time; what the second connection and key-range parts buy on two cores',
  },
  {
    name: 'devsnap reset / devsnap import',
    metric: 'durationMs',
    numerator: 'devsnap-reset',
    denominator: 'devsnap-import',
    meaning: 'time; what restoring the kept template costs against loading the snapshot again',
  },
  {
    name: 'devsnap import / pg_restore',
    metric: 'durationMs',
    numerator: 'devsnap-import',
    denominator: 'pg-restore',
    meaning: 'time; below 1 means devsnap imports faster than pg_restore',
  },
  {
    name: 'devsnap import / pg_restore -j2',
    metric: 'durationMs',
    numerator: 'devsnap-import',
    denominator: 'pg-restore-j2',
    meaning: 'time, against pg_restore with two jobs (one per core here)',
    goal: 1,
  },
  {
    name: 'snapshot bytes / dump bytes',
    metric: 'bytes',
    numerator: 'devsnap-export',
    denominator: 'pg-dump',
    meaning: 'size; Parquet (ZSTD) snapshot over the compressed custom-format dump',
    goal: 1,
  },
  {
    name: 'devsnap export / raw COPY',
    metric: 'durationMs',
    numerator: 'devsnap-export',
    denominator: 'raw-copy',
    meaning: 'time over the floor of reading every row once; the rest is devsnap’s own work',
  },
  {
    name: 'pg_dump / raw COPY',
    metric: 'durationMs',
    numerator: 'pg-dump',
    denominator: 'raw-copy',
    meaning: 'time; the same overhead for pg_dump, for scale',
  },
];

export interface RatioResult extends BenchRatio {
  /** The ratio of the medians (the headline number). */
  readonly value: number | undefined;
  /**
   * The ratio round by round (rounds are interleaved, so each pairs runs made under the same
   * background load): its lowest, median and highest value. Absent with fewer than one pair.
   */
  readonly spread: { readonly min: number; readonly median: number; readonly max: number } | undefined;
  /** How many rounds measured both sides. */
  readonly rounds: number;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Each ratio from the summarised results (`results`) and from the runs of every round (`samples`,
 * in round order): a goal is met only when its max is, not just its median.
 */
export function computeRatios(
  ratios: readonly BenchRatio[],
  results: ReadonlyMap<string, BenchMeasurement>,
  samples: ReadonlyMap<string, readonly BenchMeasurement[]> = new Map(),
): RatioResult[] {
  return ratios.map((ratio) => {
    const top = results.get(ratio.numerator);
    const bottom = results.get(ratio.denominator);
    const a = top?.status === 'ok' ? top[ratio.metric] : undefined;
    const b = bottom?.status === 'ok' ? bottom[ratio.metric] : undefined;
    const tops = samples.get(ratio.numerator) ?? [];
    const bottoms = samples.get(ratio.denominator) ?? [];
    const perRound: number[] = [];
    for (let round = 0; round < Math.min(tops.length, bottoms.length); round++) {
      const x = tops[round]?.status === 'ok' ? tops[round]?.[ratio.metric] : undefined;
      const y = bottoms[round]?.status === 'ok' ? bottoms[round]?.[ratio.metric] : undefined;
      if (x !== undefined && y !== undefined && y > 0) perRound.push(x / y);
    }
    return {
      ...ratio,
      value: a !== undefined && b !== undefined && b > 0 ? a / b : undefined,
      spread:
        perRound.length > 0
          ? { min: Math.min(...perRound), median: median(perRound), max: Math.max(...perRound) }
          : undefined,
      rounds: perRound.length,
    };
  });
}
