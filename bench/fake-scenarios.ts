import { formatUnits } from '../cli/format-units.js';
import { formatTable } from '../cli/text-table.js';
import { median } from './bench-ratios.js';
import type { BenchMeasurement, BenchScenario } from './bench-scenario.js';
import { type FakeThroughput, measureFakeThroughput } from './fake-throughput.js';

/** Issue 15's goal: deterministic fakes per second of one core, for each common generator. */
export const FAKES_PER_CORE_SECOND_GOAL = 1_000_000;

/** The fake engine alone, in this process (CPU time of one thread; no database). */
export const fakeScenarios: readonly BenchScenario[] = [
  {
    name: 'fakes',
    description: 'deterministic fakes per CPU second: names, emails (unique), phones, addresses',
    async run() {
      const generators = await measureFakeThroughput();
      return {
        rows: generators.reduce((sum, generator) => sum + generator.values, 0),
        details: { generators },
      };
    },
  },
];

/** Per generator, values per CPU second over the rounds (min, median, max) against the goal. */
export function fakesTable(samples: readonly BenchMeasurement[]): string | undefined {
  const byGenerator = new Map<string, number[]>();
  for (const sample of samples) {
    for (const result of (sample.details?.generators ?? []) as FakeThroughput[]) {
      byGenerator.set(result.generator, [
        ...(byGenerator.get(result.generator) ?? []),
        result.valuesPerCpuSecond,
      ]);
    }
  }
  if (byGenerator.size === 0) return undefined;
  const perSecond = (value: number) => `${formatUnits.count(Math.round(value))}/s`;
  return formatTable(
    [
      { header: 'fake generator' },
      { header: 'min', align: 'right' },
      { header: 'median', align: 'right' },
      { header: 'max', align: 'right' },
      { header: 'goal' },
    ],
    [...byGenerator].map(([generator, values]) => {
      const min = Math.min(...values);
      const middle = median(values);
      const goal = `≥ ${perSecond(FAKES_PER_CORE_SECOND_GOAL)} per core: ${
        min >= FAKES_PER_CORE_SECOND_GOAL
          ? 'met'
          : middle >= FAKES_PER_CORE_SECOND_GOAL
            ? 'MISSED in some rounds'
            : 'MISSED'
      }`;
      return [generator, perSecond(min), perSecond(middle), perSecond(Math.max(...values)), goal];
    }),
  );
}
