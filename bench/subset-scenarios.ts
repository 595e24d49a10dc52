import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRatio, BenchScenario } from './bench-scenario.js';
import { devsnapExport, devsnapImport } from './devsnap-scenarios.js';

const CONFIGS = resolve(dirname(fileURLToPath(import.meta.url)), 'configs');

/**
 * A subset export: a random tenth of the users, the root of the demo's foreign keys, and the rows
 * that depend on them (restrict prunes every other table to rows whose parents are exported).
 * Its import checks the subset loads with every constraint in force.
 */
export const subsetScenarios: readonly BenchScenario[] = [
  devsnapExport('devsnap-export-subset', ['--config', join(CONFIGS, 'subset-tenth.devsnap.config.ts')]),
  devsnapImport('devsnap-import-subset', 'devsnap-export-subset'),
];

export const subsetRatios: readonly BenchRatio[] = [
  {
    name: 'subset export / export',
    metric: 'durationMs',
    numerator: 'devsnap-export-subset',
    denominator: 'devsnap-export',
    meaning: 'time for a 10% subset over the whole export; selecting rows must cost less than it saves',
    goal: 0.35,
  },
  {
    name: 'subset export peak RSS / export',
    metric: 'peakRssBytes',
    numerator: 'devsnap-export-subset',
    denominator: 'devsnap-export',
    meaning: 'memory; key sets for a tenth of 2M rows should not add much',
  },
];
