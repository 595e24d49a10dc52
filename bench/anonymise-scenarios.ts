import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRatio, BenchScenario } from './bench-scenario.js';
import { devsnapExport, devsnapImport } from './devsnap-scenarios.js';

const CONFIGS = resolve(dirname(fileURLToPath(import.meta.url)), 'configs');

/**
 * The same export with five faker rules: what anonymisation costs; without export-time
 * verification, what checking every written value costs; and the import of the anonymised
 * snapshot, whose fakes (unique emails, random phone digits) compress and load differently.
 */
export const anonymiseScenarios: readonly BenchScenario[] = [
  devsnapExport('devsnap-export-anonymised', ['--config', join(CONFIGS, 'five-fakes.devsnap.config.ts')]),
  devsnapExport('devsnap-export-anonymised-unverified', [
    '--config',
    join(CONFIGS, 'five-fakes-unverified.devsnap.config.ts'),
  ]),
  devsnapImport('devsnap-import-anonymised', 'devsnap-export-anonymised'),
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
    goal: 1.15,
  },
  {
    name: 'anonymised export / pg_dump',
    metric: 'durationMs',
    numerator: 'devsnap-export-anonymised',
    denominator: 'pg-dump',
    meaning: 'time with five faker rules against pg_dump -Fc, which anonymises nothing',
    goal: 1.5,
  },
  {
    name: 'anonymised snapshot bytes / dump bytes',
    metric: 'bytes',
    numerator: 'devsnap-export-anonymised',
    denominator: 'pg-dump',
    meaning: 'size; fakes compress worse than the real values they replace',
    goal: 1,
  },
  {
    name: 'anonymised import / pg_restore -j2',
    metric: 'durationMs',
    numerator: 'devsnap-import-anonymised',
    denominator: 'pg-restore-j2',
    meaning: 'time to load the anonymised snapshot against pg_restore with two jobs',
    goal: 1,
  },
  {
    name: 'anonymised import / import',
    metric: 'durationMs',
    numerator: 'devsnap-import-anonymised',
    denominator: 'devsnap-import',
    meaning: 'time; an anonymised snapshot should load as fast as a kept one',
  },
];
