import { describe, expect, it } from 'vitest';
import type { RowValues } from '../../core/anonymise/anonymiser.js';
import { shiftDays } from '../../strategies/anonymisers/date-shift-anonymiser.js';
import {
  constant,
  custom,
  dateShift,
  fake,
  hash,
  jsonPaths,
  keep,
  keepIf,
  mask,
  nullValue,
} from '../../strategies/index.js';
import { column, facts, row, transformFor } from '../support/rule-harness.js';

const text = facts(column('name', 'text', 'text'));
const email40 = facts(column('email', 'character varying(40)', 'varchar'), { unique: true });

describe('deterministic keyed rules', () => {
  it('give the same output for the same (secret, rule, value) in two columns and two runs, and another with another secret', async () => {
    for (const rule of [
      fake('internet.email'),
      fake('person.fullName'),
      hash(),
      hash({ format: 'uuid' }),
      custom((_v, ctx) => ctx.digest, { name: 'digest' }),
    ]) {
      const a = await transformFor(rule, text);
      const b = await transformFor(rule, facts(column('other', 'text', 'text')));
      const again = await transformFor(rule, text);
      const other = await transformFor(rule, text, 'another-secret-9876543210');
      const out = a.apply('alice@corp.example', row('1'));
      expect(b.apply('alice@corp.example', row('2'))).toBe(out);
      expect(again.apply('alice@corp.example', row('3'))).toBe(out);
      expect(other.apply('alice@corp.example', row('1'))).not.toBe(out);
      expect(a.apply('bob@corp.example', row('1'))).not.toBe(out);
    }
  });

  it('never gives a real value as its own fake, though faker’s lists hold real names and cities', async () => {
    const { en } = await import('@faker-js/faker');
    const cities = await transformFor(fake('location.city'), text);
    const names = await transformFor(fake('person.firstName'), text);
    const sameCities = en.location?.city_name?.filter((city) => cities.apply(city, row('1')) === city) ?? [];
    const sameNames = [...new Set(Object.values(en.person?.first_name ?? {}).flat())].filter(
      (name) => names.apply(name, row('1'))?.toLowerCase() === name.toLowerCase(),
    );
    expect(en.location?.city_name?.length).toBeGreaterThan(500);
    expect([sameCities, sameNames]).toEqual([[], []]);
  });

  it('keys each rule by its options: another method or locale gives unrelated outputs', async () => {
    const en = await transformFor(fake('person.lastName'), text);
    const de = await transformFor(fake('person.lastName', { locale: 'de' }), text);
    const outputs = ['a', 'b', 'c', 'd', 'e'].map((v) => [en.apply(v, row(v)), de.apply(v, row(v))]);
    expect(outputs.filter(([x, y]) => x === y).length).toBeLessThan(2);
  });

  it('turns 1,000,000 distinct emails into 1,000,000 distinct valid fake emails in a unique varchar(40) column', async () => {
    const transform = await transformFor(fake('internet.email'), email40);
    const seen = new Set<string>();
    const cursor = row('x');
    for (let i = 0; i < 1_000_000; i++) {
      const output = transform.apply(`person${i}@corp.example`, cursor) as string;
      if (i % 50_000 === 0) expect(output).toMatch(/^[A-Za-z0-9._'-]+\.[0-9a-z]{8}@example\.(com|net|org)$/);
      if (output.length > 40) throw new Error(`too long: ${output.length}`);
      seen.add(output.toLowerCase());
    }
    expect(seen.size).toBe(1_000_000);
  }, 120_000);

  it('resolves collisions in a unique column deterministically, even for a rule with few outputs', async () => {
    const small = facts(column('code', 'integer', 'int4'), { unique: true });
    const run = async () => {
      const transform = await transformFor(hash({ format: 'int', min: 1, max: 120 }), small);
      return Array.from({ length: 100 }, (_, i) => transform.apply(String(i), row(String(i))));
    };
    const first = await run();
    expect(new Set(first).size).toBe(100);
    expect(await run()).toEqual(first);
  });

  it('fits varchar(n), integer ranges and simple check constraints', async () => {
    const short = facts(column('email', 'character varying(12)', 'varchar'));
    const out = (await transformFor(fake('internet.email'), short)).apply('someone@corp.example', row('1'));
    expect(out?.length).toBeLessThanOrEqual(12);
    const paragraph = (
      await transformFor(fake('lorem.paragraphs'), facts(column('bio', 'character(5)', 'bpchar')))
    ).apply('x', row('1'));
    expect([...(paragraph ?? '')].length).toBeLessThanOrEqual(5);
    const small = facts(column('n', 'smallint', 'int2'));
    for (let i = 0; i < 50; i++) {
      const value = Number((await transformFor(hash({ format: 'int' }), small)).apply(String(i), row('1')));
      expect(value).toBeGreaterThanOrEqual(1);
      expect(value).toBeLessThanOrEqual(32767);
    }
    const birth = facts(column('dob', 'date', 'date'), { checks: ["CHECK ((dob > '1900-01-01'::date))"] });
    const shifted = await transformFor(dateShift({ days: 400 }), birth);
    for (let i = 0; i < 200; i++)
      expect((shifted.apply('1900-01-05', row(String(i))) as string) > '1900-01-01').toBe(true);
    const positive = facts(column('n', 'public.positive_int', 'int4'), {
      domains: [
        {
          schema: 'public',
          name: 'positive_int',
          checks: [{ name: 'p', definition: 'CHECK ((VALUE > 0))' }],
        },
      ],
    });
    const domainValues = await transformFor(hash({ format: 'int', min: -20, max: 20 }), positive);
    for (let i = 0; i < 60; i++) expect(Number(domainValues.apply(String(i), row('1')))).toBeGreaterThan(0);
    const ranged = facts(column('qty', 'integer', 'int4'), {
      checks: ['CHECK (((qty > 0) AND (qty <= 10)))'],
    });
    const qty = await transformFor(hash({ format: 'int', min: -5, max: 30 }), ranged);
    for (let i = 0; i < 100; i++) {
      const value = Number(qty.apply(String(i), row('1')));
      expect(value > 0 && value <= 10).toBe(true);
    }
  });
});

describe('built-in rules', () => {
  it('hash: hex of a given length with a prefix, v4-shaped uuids, integers in range', async () => {
    expect((await transformFor(hash({ length: 10, prefix: 'u_' }), text)).apply('a', row('1'))).toMatch(
      /^u_[0-9a-f]{10}$/,
    );
    expect(
      (await transformFor(hash({ format: 'uuid' }), facts(column('u', 'uuid', 'uuid')))).apply('a', row('1')),
    ).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('mask keeps the shape and the last characters; constant and nullValue replace every value', async () => {
    const masked = await transformFor(mask({ keepLast: 4 }), text);
    expect(masked.apply('4929 1739 5012 4789', row('1'))).toBe('**** **** **** 4789');
    expect(masked.apply(null, row('1'))).toBeNull();
    expect((await transformFor(constant('x'), text)).apply('secret', row('1'))).toBe('x');
    expect((await transformFor(nullValue(), text)).apply('secret', row('1'))).toBeNull();
  });

  it('keeps NULLs by default and fills them, one fake per row, when asked', async () => {
    expect((await transformFor(fake('person.firstName'), text)).apply(null, row('1'))).toBeNull();
    const filling = await transformFor(fake('internet.email', { preserveNulls: false }), text);
    const a = filling.apply(null, row('1'));
    expect(a).toMatch(/@example\./);
    expect(filling.apply(null, row('2'))).not.toBe(a);
    expect(filling.apply(null, row('1'))).toBe(a);
  });

  it('applies to each element of an array and keeps NULL elements and quoting', async () => {
    const tags = facts(column('emails', 'text[]', '_text'));
    const output = (await transformFor(fake('internet.email'), tags)).apply(
      '{a@x.example,NULL,"b c@x.example"}',
      row('1'),
    );
    expect(output).toMatch(/^\{[^,]+@example\.[a-z]+,NULL,[^,]+@example\.[a-z]+\}$/);
  });

  it('dateShift moves dates and timestamps by whole days, per row or per entity, never by zero', async () => {
    expect(shiftDays('2024-02-28', 2)).toBe('2024-03-01');
    expect(shiftDays('2024-01-01 10:11:12.5+00', -1)).toBe('2023-12-31 10:11:12.5+00');
    expect(shiftDays('infinity', 3)).toBe('infinity');
    expect(shiftDays('0044-03-15 BC', 3)).toBe('0044-03-15 BC');
    const dates = facts(column('d', 'date', 'date'));
    const perRow = await transformFor(dateShift({ days: 5 }), dates);
    const outputs = new Set(Array.from({ length: 40 }, (_, i) => perRow.apply('2024-06-15', row(String(i)))));
    expect(outputs.has('2024-06-15')).toBe(false);
    expect(outputs.size).toBeGreaterThan(5);
    for (const output of outputs)
      expect(Math.abs(Date.parse(output as string) - Date.parse('2024-06-15'))).toBeLessThanOrEqual(
        5 * 86400000,
      );
    const perEntity = await transformFor(dateShift({ days: 30, per: 'entity', entityColumn: 'id' }), dates);
    const user = (id: string): RowValues => ({
      get: () => id,
      toObject: () => ({ id }),
      key: () => `${id}-${Math.random()}`,
    });
    const first = perEntity.apply('2024-06-15', user('7'));
    const second = perEntity.apply('2024-06-20', user('7'));
    expect(Date.parse(second as string) - Date.parse(first as string)).toBe(5 * 86400000);
  });

  it('jsonPaths replaces only what its paths name and keeps numbers exactly', async () => {
    const json = facts(column('doc', 'jsonb', 'jsonb'));
    const rule = jsonPaths({
      '$.contact.email': fake('internet.email'),
      '$..phone': nullValue(),
      '$.list[*]': hash({ length: 4 }),
    });
    const output = (await transformFor(rule, json)).apply(
      '{"contact": {"email": "a@b.example", "phone": "+44 1"}, "big": 12345678901234567890, "ratio": 1.10, "list": ["x", "y"], "deep": {"phone": "2"}}',
      row('1'),
    );
    expect(output).toMatch(
      /^\{"contact": \{"email": "[^"]+@example\.[a-z]+", "phone": null\}, "big": 12345678901234567890, "ratio": 1\.10, "list": \["[0-9a-f]{4}", "[0-9a-f]{4}"\], "deep": \{"phone": null\}\}$/,
    );
  });

  it('keepIf keeps rows the predicate picks and anonymises the rest', async () => {
    const rule = keepIf((r) => r.id === 'staff', fake('internet.email'), { name: 'staff' });
    expect(rule.describe()).toBe('keepIf(staff, otherwise fake(internet.email))');
    const transform = await transformFor(rule, text);
    expect(transform.apply('boss@corp.example', row('staff'))).toBe('boss@corp.example');
    expect(transform.apply('boss@corp.example', row('7'))).toMatch(/@example\./);
  });

  it('reports a rule that throws by column and rule, never with the value', async () => {
    const throwing = await transformFor(
      custom(
        (value) => {
          throw new TypeError(`cannot handle ${value}`);
        },
        { name: 'picky' },
      ),
      text,
    );
    expect(() => throwing.apply('alice@corp.example', row('1'))).toThrow(
      'Anonymising public.t.name with custom(picky) failed: the rule threw TypeError.',
    );
  });

  it('validates rules against their column, with every problem named', () => {
    const notNull = facts(column('c', 'text', 'text', { nullable: false }), { unique: true });
    expect(nullValue().validate?.(notNull)).toEqual(['nullValue() cannot be used: public.t.c is NOT NULL']);
    expect(constant('x').validate?.(notNull)).toEqual([
      'constant() would repeat one value in public.t.c, which is unique; use hash() or fake()',
    ]);
    expect(mask().validate?.(facts(column('n', 'integer', 'int4')))).toEqual([
      'mask() works on text, but public.t.n is integer',
    ]);
    expect(fake('internet.emial').validate?.(text)).toEqual([
      'fake(): no faker method internet.emial (did you mean "internet.email"?)',
    ]);
    expect(fake('internet.email').validate?.(facts(column('d', 'date', 'date')))).toEqual([
      'fake(internet.email) does not produce dates, but public.t.d is date',
    ]);
    expect(dateShift({ per: 'entity' }).validate?.(facts(column('d', 'date', 'date')))).toEqual([
      "dateShift(): per: 'entity' needs entityColumn",
    ]);
    expect(keep(' ').validate?.(text)).toEqual(["keep() needs a reason, e.g. keep('public film credits')"]);
    expect(jsonPaths({ 'contact.email': fake('internet.email') }).validate?.(text)).toEqual([
      'jsonPaths() works on json and jsonb, but public.t.name is text',
      'jsonPaths(): JSON path contact.email must start with $',
    ]);
  });
});
