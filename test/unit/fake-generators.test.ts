import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/anonymise/seeded-random.js';
import { fakeGenerator } from '../../strategies/anonymisers/fake-generators.js';
import { seededFaker } from '../../strategies/anonymisers/faker-instances.js';
import { fake } from '../../strategies/index.js';
import { column, facts, row, transformFor } from '../support/rule-harness.js';

const LOCALES = ['en', 'en_GB', 'de', 'fr', 'ar'];

async function definitions(locale: string) {
  const { faker } = await seededFaker(locale);
  return {
    faker,
    d: faker.definitions as unknown as Record<string, Record<string, Record<string, string[]>>>,
  };
}

/** A stream for each seed, as fake() gets one per value. */
const stream = (seed: number) =>
  new SeededRandom(
    Uint8Array.from({ length: 16 }, (_, i) => (Math.imul(seed + 1, 0x9e3779b1) >>> (8 * (i % 4))) ^ i),
  );

/** A format such as `+1!##!######` as a regular expression of the values it allows. */
const formatPattern = (format: string) =>
  new RegExp(
    `^${format
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/#/g, '\\d')
      .replace(/!/g, '[2-9]')}$`,
  );

describe('fake generators built from faker locale lists', () => {
  it('pick names only from the locale, covering every sex, and phones only in its formats', async () => {
    for (const locale of LOCALES) {
      const { faker, d } = await definitions(locale);
      const firstNames = new Set(Object.values(d.person!.first_name!).flat());
      const firstName = fakeGenerator(faker, 'person.firstName', [])!;
      const seen = new Set<string>();
      for (let i = 0; i < 5000; i++) {
        const name = firstName(stream(i));
        expect(firstNames.has(name), `${locale} ${name}`).toBe(true);
        seen.add(name);
      }
      // More names than any one list's generic part alone (232 in English).
      expect(seen.size).toBeGreaterThan(Math.min(300, firstNames.size * 0.5));
      const style = d.phone_number!.format!.international ? 'international' : 'human';
      const formats = d.phone_number!.format![style]!.map(formatPattern);
      const phone = fakeGenerator(faker, 'phone.number', [{ style }])!;
      for (let i = 0; i < 2000; i++) {
        const number = phone(stream(i));
        expect(
          formats.some((pattern) => pattern.test(number)),
          `${locale} ${number}`,
        ).toBe(true);
      }
    }
  });

  it('build street addresses from the locale’s patterns, with building numbers that do not start with 0', async () => {
    const { faker, d } = await definitions('en');
    const address = fakeGenerator(faker, 'location.streetAddress', [])!;
    const suffixes = new Set(d.location!.street_suffix as unknown as string[]);
    const streetNames = new Set(d.location!.street_name as unknown as string[]);
    for (let i = 0; i < 3000; i++) {
      const value = address(stream(i));
      const [, number, street] = /^(\d+) (.+)$/.exec(value) ?? [];
      expect(number, value).toMatch(/^[1-9]\d{2,4}$/);
      const suffix = street!.split(' ').at(-1)!;
      expect(suffixes.has(suffix) || streetNames.has(street!), value).toBe(true);
    }
    const full = fakeGenerator(faker, 'location.streetAddress', [{ useFullAddress: true }])!;
    expect(full(stream(1))).toMatch(/ (Apt\.|Suite) [1-9]\d\d$/);
  });

  it('leave other methods, options and locale shapes to faker', async () => {
    const { faker } = await definitions('en');
    expect(fakeGenerator(faker, 'person.fullName', [])).toBeNull();
    expect(fakeGenerator(faker, 'person.firstName', ['female'])).toBeNull();
    expect(fakeGenerator(faker, 'phone.number', [{ style: 'no-such-style' }])).toBeNull();
    expect(fakeGenerator(faker, 'phone.number', [{ style: 'human', extra: 1 }])).toBeNull();
    expect(fakeGenerator(faker, 'location.streetAddress', [{ useFullAddress: 'yes' }])).toBeNull();
  });

  it('keep fake() keyed, deterministic, length-aware and unique on a unique column', async () => {
    const email40 = facts(column('email', 'character varying(40)', 'varchar'), { unique: true });
    const a = await transformFor(fake('internet.email'), email40, 'secret-a-0123456789abcdef');
    const again = await transformFor(fake('internet.email'), email40, 'secret-a-0123456789abcdef');
    const other = await transformFor(fake('internet.email'), email40, 'secret-b-0123456789abcdef');
    const outputs = new Set<string>();
    let differs = 0;
    for (let i = 0; i < 20_000; i++) {
      const input = `user${i}@mail.example`;
      const output = a.apply(input, row(String(i))) as string;
      expect(again.apply(input, row(String(i)))).toBe(output);
      if (other.apply(input, row(String(i))) !== output) differs++;
      expect(output.length).toBeLessThanOrEqual(40);
      expect(output).toMatch(/^[A-Za-z0-9._]+\.[0-9a-z]{8}@example\.(com|net|org)$/);
      outputs.add(output.toLowerCase());
    }
    expect(outputs.size).toBe(20_000);
    expect(differs).toBeGreaterThan(19_900);
  });
});
