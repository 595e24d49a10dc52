import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRatio, BenchScenario } from './bench-scenario.js';
import { devsnapExport } from './devsnap-scenarios.js';

const CONFIGS = resolve(dirname(fileURLToPath(import.meta.url)), 'configs');

/**
 * The same export with five faker rules: what anonymisation costs; and without export-time
 * verification, what checking every written value costs.
 */
export const anonymiseScenarios: readonly BenchScenario[] = [
  devsnapExport('devsnap-export-anonymised', ['--config', join(CONFIGS, 'five-fakes.devsnap.config.ts')]),
  devsnapExport('devsnap-export-anonymised-unverified', [
    '--config',
    join(CONFIGS, 'five-fakes-unverified.devsnap.config.ts'),
  ]),
];

export const anonymiseRatios: readonly BenchRatio[] = [
  {
    name: 'anonymised export / export',
    metric: 'durationMs',
    numerator: 'devsnap-export-anonymised',
    denominator: 'devsnap-export',
    meaning: 'time with five faker rules over none; at most 2 keeps half the throughput',
  },
  {
    name: 'verified / unverified anonymised export',
    metric: 'durationMs',
    numerator: 'devsnap-export-anonymised',
    denominator: 'devsnap-export-anonymised-unverified',
    meaning: 'what checking every written value for personal data costs; budget 1.15 (issue 10)',
  },
];
