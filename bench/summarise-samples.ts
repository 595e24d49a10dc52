import type { BenchMeasurement } from './bench-scenario.js';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * One measurement from a scenario's repeated runs. Time is the median, which shrugs off a run that
 * shared the two cores with something else; peak memory is the highest seen, since a peak is what
 * has to fit. A failure or skip in any run is the result.
 */
export function summariseSamples(samples: readonly BenchMeasurement[]): BenchMeasurement {
  const last = samples.at(-1);
  if (!last) throw new Error('summariseSamples needs at least one sample');
  const notOk = samples.find((sample) => sample.status !== 'ok');
  if (notOk) return notOk;
  const durations = samples.flatMap((sample) => (sample.durationMs === undefined ? [] : [sample.durationMs]));
  const peaks = samples.flatMap((sample) => (sample.peakRssBytes === undefined ? [] : [sample.peakRssBytes]));
  // The time a tool reports for itself (devsnap's durationMs), without process start-up.
  const reported = samples.flatMap((sample) =>
    typeof sample.details?.reportedDurationMs === 'number' ? [sample.details.reportedDurationMs] : [],
  );
  return {
    ...last,
    durationMs: durations.length > 0 ? Math.round(median(durations)) : undefined,
    peakRssBytes: peaks.length > 0 ? Math.max(...peaks) : undefined,
    details: {
      ...last.details,
      ...(reported.length > 0 ? { reportedDurationMs: Math.round(median(reported)) } : {}),
      runs: samples.length,
      durationsMs: durations.map(Math.round),
    },
  };
}
