import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRatio, BenchScenario } from './bench-scenario.js';
import { devsnapExport } from './devsnap-scenarios.js';

const CONFIGS = resolve(dirname(fileURLToPath(import.meta.url)), 'configs');

/** The same export with five faker rules: what anonymisation costs. */
export const anonymiseScenarios: readonly BenchScenario[] = [
  devsnapExport('devsnap-export-anonymised', ['--config', join(CONFIGS, 'five-fakes.devsnap.config.ts')]),
];

export const anonymiseRatios: readonly BenchRatio[] = [
  {
    name: 'anonymised export / export',
    metric: 'durationMs',
    numerator: 'devsnap-export-anonymised',
    denominator: 'devsnap-export',
    meaning: 'time with five faker rules over none; at most 2 keeps half the throughput',
  },
];
