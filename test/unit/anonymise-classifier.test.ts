import { beforeAll, describe, expect, it } from 'vitest';
import type { AnonymiseColumn, TypeFamily } from '../../core/anonymise/anonymiser.js';
import { categoryForName, classifyValues, detect } from '../../core/anonymise/column-classifier.js';
import { allDetectorsScanner } from '../../core/anonymise/detectors/load-detectors.js';
import type { PersonalDataScanner } from '../../core/anonymise/detectors/personal-data-scanner.js';
import { compileJsonPath, formatJson, JsonNumber, parseJson } from '../../core/anonymise/json-text.js';
import { formatPgArray, parsePgArray } from '../../core/anonymise/pg-array-text.js';

let scanner: PersonalDataScanner;
beforeAll(async () => {
  scanner = await allDetectorsScanner();
});

const id = (name: string, family: TypeFamily = 'text', table?: string) =>
  categoryForName(name, family, table)?.id ?? null;

describe('the classifier', () => {
  it('recognises personal column names in any case style, for types that can hold them', () => {
    const personal: [string, TypeFamily, string][] = [
      ['email', 'text', 'email'],
      ['customerEmail', 'text', 'email'],
      ['EMAIL_ADDRESS', 'text', 'email'],
      ['phone_number', 'text', 'phone'],
      ['mobile', 'text', 'phone'],
      ['first_name', 'text', 'first-name'],
      ['FirstName', 'text', 'first-name'],
      ['surname', 'text', 'last-name'],
      ['full_name', 'text', 'full-name'],
      ['username', 'text', 'username'],
      ['address', 'text', 'street-address'],
      ['address2', 'text', 'secondary-address'],
      ['line1', 'text', 'street-address'],
      ['postal_code', 'text', 'postcode'],
      ['zip', 'integer', 'postcode'],
      ['date_of_birth', 'date', 'birth-date'],
      ['dob', 'text', 'birth-date'],
      ['born_on', 'date', 'birth-date'],
      ['ssn', 'text', 'national-id'],
      ['passport_number', 'text', 'national-id'],
      ['iban', 'text', 'bank-account'],
      ['card_number', 'text', 'card-number'],
      ['cvv', 'text', 'card-security'],
      ['last_sign_in_ip', 'text', 'ip-address'],
      ['ip_address', 'inet', 'ip-address'],
      ['password', 'text', 'password'],
      ['encrypted_password', 'text', 'password'],
      ['reset_password_token', 'text', 'password'],
      ['api_key', 'text', 'secret'],
      ['refresh_token', 'uuid', 'secret'],
      ['latitude', 'float', 'geolocation'],
      ['lng', 'numeric', 'geolocation'],
      ['religion', 'text', 'special-category'],
    ];
    for (const [name, family, expected] of personal)
      expect({ name, category: id(name, family) }).toEqual({ name, category: expected });
    // A bare `name` is a person's name only in a table of people.
    expect(id('name', 'text', 'customers')).toBe('full-name');
    expect(id('name', 'text', 'products')).toBeNull();
  });

  it('does not flag flags, counts, timestamps or reference data that merely share a word', () => {
    const notPersonal: [string, TypeFamily][] = [
      ['email_verified', 'boolean'],
      ['email_sent_at', 'timestamptz'],
      ['phone_count', 'integer'],
      ['address_id', 'integer'],
      ['tokens_used', 'integer'],
      ['city', 'text'],
      ['country_code', 'text'],
      ['created_at', 'timestamptz'],
      ['title', 'text'],
      ['description', 'text'],
      ['sku', 'text'],
      ['login_count', 'integer'],
    ];
    for (const [name, family] of notPersonal)
      expect({ name, category: id(name, family) }).toEqual({ name, category: null });
  });

  it('classifies values with the export detectors, whole values apart from values that contain one', () => {
    expect(detect('someone@corp.example', scanner)).toEqual([{ detector: 'email', whole: true }]);
    expect(detect('write to someone@corp.example today', scanner)).toEqual([
      { detector: 'email', whole: false },
    ]);
    expect(detect('+44 20 7946 0958', scanner)).toEqual([{ detector: 'phone', whole: true }]);
    expect(detect('(020) 7946-0958', scanner)).toEqual([{ detector: 'phone', whole: true }]);
    expect(detect('203.0.113.77', scanner)).toEqual([{ detector: 'ip-address', whole: true }]);
    expect(detect('4111 1111 1111 1111', scanner)).toEqual([{ detector: 'payment-card', whole: true }]);
    for (const plain of [
      '2024-06-15',
      '12345678',
      'SKU-0001234',
      '3.14159',
      'hello world',
      '2024-06-15 10:00:00+00',
      '1.2.3',
    ]) {
      expect({ plain, detected: detect(plain, scanner) }).toEqual({ plain, detected: [] });
    }
  });

  it('flags a column by any find, as the export would stop on it, and suggests a fake only for columns of such values', () => {
    const column = {
      family: 'text',
      isArray: false,
      column: { nullable: true, name: 'c' },
    } as unknown as AnonymiseColumn;
    expect(classifyValues(column, ['version 1.2.3.4', 'v2', 'v3', 'v4', null], scanner).personal).toBe(false);
    expect(classifyValues(column, ['1.2.3.4', '5.6.7.8', 'v3'], scanner).reasons).toEqual([
      '2 of 3 sampled values look like an IP address',
    ]);
    expect(classifyValues(column, ['fine', 'also fine', 'mail me: a@b.example'], scanner)).toEqual({
      personal: true,
      reasons: ['1 of 3 sampled values contain an email address'],
      suggestion: 'scrub()',
    });
    // 40% emails is a column of emails, not a majority vote.
    const mixed = Array.from({ length: 100 }, (_, i) => (i % 5 < 2 ? `user${i}@corp.example` : `user ${i}`));
    expect(classifyValues(column, mixed, scanner).reasons).toEqual([
      '40 of 100 sampled values look like an email address',
    ]);
    // One name among 100 titles flags the column, with scrub(): the export would stop on it.
    const titles = Array.from({ length: 100 }, (_, i) => (i === 7 ? 'Jane Smith' : `Release ${i}`));
    expect(classifyValues(column, titles, scanner)).toEqual({
      personal: true,
      reasons: ["1 of 100 sampled values look like a person's name"],
      suggestion: 'scrub()',
    });
  });

  it('looks inside arrays and JSON (keys and values, nested and in arrays), ignoring flags', () => {
    const array = {
      family: 'text',
      isArray: true,
      column: { nullable: true, name: 'c' },
    } as unknown as AnonymiseColumn;
    expect(classifyValues(array, ['{a@b.example,NULL}', '{}'], scanner).reasons).toEqual([
      '1 of 1 sampled values look like an email address',
    ]);
    const json = {
      family: 'json',
      isArray: false,
      column: { nullable: true, name: 'c' },
    } as unknown as AnonymiseColumn;
    const verdict = classifyValues(
      json,
      [
        '{"notifications": {"email": true}, "owner": {"phone": "07700 900123"}, "items": [{"note": "x@y.example"}], "n": 5}',
      ],
      scanner,
    );
    expect(verdict.reasons).toEqual([
      'sampled JSON has personal data at $.items[*].note (an email address), $.owner.phone (a phone number)',
    ]);
    expect(verdict.suggestion).toBe(
      "jsonPaths({ '$': scrub(), '$.items[*].note': fake('internet.email'), '$.owner.phone': fake('phone.number', { args: { style: 'international' } }) })",
    );
  });
});

describe('value formats', () => {
  it('round-trips PostgreSQL array text, quoting what needs quotes', () => {
    for (const text of [
      '{}',
      '{a,b}',
      '{"a b",NULL,"NULL","x\\"y","back\\\\slash"}',
      '{{1,2},{3,4}}',
      '[0:1]={x,y}',
    ]) {
      const { bounds, elements } = parsePgArray(text);
      expect(formatPgArray(bounds, elements)).toBe(text);
    }
    expect(parsePgArray('{"a b",NULL}').elements).toEqual(['a b', null]);
  });

  it('parses and prints JSON keeping numbers exactly, and compiles the JSONPath subset', () => {
    const value = parseJson(
      '{"a": 12345678901234567890, "b": [1.10, -0.5e3, "s\\n"], "c": {"d": null, "e": false}}',
    );
    expect(formatJson(value)).toBe(
      '{"a": 12345678901234567890, "b": [1.10, -0.5e3, "s\\n"], "c": {"d": null, "e": false}}',
    );
    expect((value as Map<string, unknown>).get('a')).toEqual(new JsonNumber('12345678901234567890'));
    expect(compileJsonPath("$.a['b c'][*].d[2]..e.*").segments.map((s) => s.type)).toEqual([
      'key',
      'key',
      'wildcard',
      'key',
      'index',
      'descend',
      'wildcard',
    ]);
    expect(() => compileJsonPath('$.a[?(@.x)]')).toThrow(/not supported near/);
  });
});
