import { describe, expect, it } from 'vitest';
import { loadDetectors } from '../../core/anonymise/detectors/load-detectors.js';
import { PersonalDataScanner } from '../../core/anonymise/detectors/personal-data-scanner.js';
import { ColumnVerifier } from '../../core/anonymise/export-verification.js';
import { column, facts } from '../support/rule-harness.js';

async function verifier() {
  const scanner = new PersonalDataScanner([...(await loadDetectors()).values()]);
  const scanners = { full: scanner, sequences: scanner, patterns: scanner };
  return new ColumnVerifier(facts(column('note', 'text', 'text')), 0, 'output', scanners);
}

describe('ColumnVerifier', () => {
  it('counts every value with a find, repeated values too (they are remembered, not skipped)', async () => {
    const check = await verifier();
    const values = [
      ...Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? 'call +44 20 7946 0958 today' : 'no answer')),
      ...Array.from({ length: 9000 }, (_, i) => `ticket ${i}: mail jane.doe${i}@gmail.com`),
    ];
    for (const value of values) check.check(value, value);
    expect(check.result()).toEqual({ values: 14_000, hits: { phone: 1667, email: 9000 } });
    expect(check.hits().map((hit) => [hit.detector, hit.values, hit.example])).toEqual([
      ['phone', 1667, '+4*** 2*** 7*** 0***'],
      ['email', 9000, 'j***@g***.com'],
    ]);
  });

  it('replays the finds of short values it remembers beyond 4,096 distinct ones, clean values too', async () => {
    const check = await verifier();
    // 6,000 distinct short values (under 13 characters), a fifth of them emails, seen three times.
    const values = Array.from({ length: 6000 }, (_, i) => (i % 5 === 0 ? `j${i}@ex.io` : `ref ${i}`));
    for (let pass = 0; pass < 3; pass++) for (const value of values) check.check(value, value);
    expect(check.result()).toEqual({ values: 18_000, hits: { email: 3600 } });
    expect(check.hits().map((hit) => [hit.detector, hit.values, hit.example])).toEqual([
      ['email', 3600, 'j***@e***.io'],
    ]);
  });
});
