import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Detector } from '../../core/anonymise/detectors/detector.js';
import {
  DETECTOR_NAMES,
  type DetectorName,
  PATTERN_DETECTOR_NAMES,
} from '../../core/anonymise/detectors/detector-names.js';
import { loadDetectors } from '../../core/anonymise/detectors/load-detectors.js';
import { PersonalDataScanner } from '../../core/anonymise/detectors/personal-data-scanner.js';
import { redact } from '../../core/anonymise/detectors/redact.js';

let scanner: PersonalDataScanner;

/** Every `detector:match` found in a value, decoded payloads included. */
function findings(value: string): string[] {
  const found: string[] = [];
  scanner.scan(value, (detector, match) => found.push(`${detector}:${match}`));
  return [...new Set(found)];
}

const detectorsOf = (value: string): DetectorName[] =>
  [...new Set(findings(value).map((finding) => finding.split(':')[0] as DetectorName))].sort();

beforeAll(async () => {
  const detectors = await loadDetectors();
  scanner = new PersonalDataScanner([...detectors.values()]);
});

describe('detectors', () => {
  it('has one pattern detector under each stable name; username, city and postcode come from the known-value index', async () => {
    expect([...(await loadDetectors()).keys()].sort()).toEqual([...PATTERN_DETECTOR_NAMES].sort());
    expect(
      DETECTOR_NAMES.filter((name) => !(PATTERN_DETECTOR_NAMES as readonly string[]).includes(name)),
    ).toEqual(['username', 'city', 'postcode']);
  });

  it.each([
    ['write to jane.doe@gmail.com today', 'email:jane.doe@gmail.com'],
    ['call +44 20 7946 0958 after six', 'phone:+44 20 7946 0958'],
    ['office (415) 555-2671', 'phone:(415) 555-2671'],
    ['Card 4111 1111 1111 1111 exp 12/29', 'payment-card:4111 1111 1111 1111'],
    ['amex 3782-822463-10005', 'payment-card:3782-822463-10005'],
    ['pay to DE89 3704 0044 0532 0130 00 by Friday', 'iban:DE89 3704 0044 0532 0130 00'],
    ['GB82WEST12345698765432', 'iban:GB82WEST12345698765432'],
    ['SSN 536-22-1234', 'national-id:536-22-1234'],
    ['NINO AB 12 34 56 C', 'national-id:AB 12 34 56 C'],
    ['DNI 12345678Z', 'national-id:12345678Z'],
    ['CPF 390.533.447-05', 'national-id:390.533.447-05'],
    ['codice RSSMRA85T10A562S', 'national-id:RSSMRA85T10A562S'],
    ['from 203.0.113.77, then 2001:db8::1', 'ip-address:203.0.113.77'],
    ['from 203.0.113.77, then 2001:db8::1', 'ip-address:2001:db8::1'],
    ['lives at 221B Baker Street, London', 'street-address:221B Baker Street'],
    ['1600 Pennsylvania Avenue NW', 'street-address:1600 Pennsylvania Avenue'],
    ['Lieferung an Hauptstraße 5, Berlin', 'street-address:Hauptstraße 5'],
    ['au 12 rue de la Paix', 'street-address:12 rue de la Paix'],
    ['bezorgen op Biltstraat 12, Utrecht', 'street-address:Biltstraat 12'],
    ['Ring twice at Herengracht 159', 'street-address:Herengracht 159'],
    ['at 53 Highfield Grove if nobody answers', 'street-address:53 Highfield Grove'],
    ['call 07597 116141 before delivery', 'phone:07597 116141'],
    ['bel 06-24770780 even', 'phone:06-24770780'],
    ['Order #12 for Jane Smith', 'person-name:Jane Smith'],
    ['signed John F. Kennedy', 'person-name:John F. Kennedy'],
    ['Lieferung für Lukas Müller', 'person-name:Lukas Müller'],
  ])('finds personal data in %j', (text, expected) => {
    expect(findings(text)).toContain(expected);
  });

  it.each([
    // Hex digests, ids, versions, prices, dates and times must not fire.
    'item-42-d41d8cd98f00b204e9800998ecf8427e',
    'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15c08ca99dbb0f0',
    '550e8400-e29b-41d4-a716-446655440000',
    'version 1.2.3.4',
    'v10.0.19041.1',
    'OID 1.3.6.1.4.1.311',
    'price 1,234.56 on 2024-01-15 10:30:00',
    '2024-01-15T10:30:00.000Z',
    '12:30:45',
    'order 4111111111111112 shipped',
    '1234567812345670',
    'build 20240115103000',
    '255.255.255.0',
    '127.0.0.1',
    'total 1 234 567 EUR',
    // Prose and title-case text.
    'A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher in The Canadian Rockies',
    'May Day parade in Victoria Station',
    'Grace Period ends on Monday',
    'ACADEMY DINOSAUR',
    // Capitals are titles and labels: Pagila's film titles.
    'BABY HALL',
    'Santa Rosa and North West',
    'Chapter 3 of the Annual Report',
    'Sizes 10 12 14 16',
  ])('does not fire on %j', (text) => {
    expect(findings(text)).toEqual([]);
  });

  it('reads national numbers of the config’s phone regions too (anonymise.phoneRegions)', async () => {
    // An Argentine mobile as Argentines write it: valid in none of the regions always read.
    const argentine = '011 15-2345-6789';
    const found = (regions: string[]) =>
      loadDetectors({ phoneRegions: regions }).then((detectors) => {
        const spans: string[] = [];
        new PersonalDataScanner([detectors.get('phone') as Detector]).scan(
          `ring ${argentine} today`,
          (_, match) => spans.push(match),
        );
        return spans;
      });
    expect(await found([])).toEqual([]);
    expect(await found(['AR'])).toEqual([argentine]);
  });

  it('never joins digits across unrelated tokens into a card number', () => {
    // Each piece is a Luhn-valid number once the separators go; none stands alone as a card.
    expect(detectorsOf('item-42-4929173950124789abc')).toEqual([]);
    expect(detectorsOf('item-4929-1739-5012-4789x')).toEqual([]);
    expect(detectorsOf('x4929173950124789')).toEqual([]);
    expect(detectorsOf('4929173950124789')).toEqual(['payment-card']);
  });

  it('is deterministic: the same text gives the same findings every time', () => {
    const text = 'Jane Smith <jane@mail.example>, +44 20 7946 0958, 4111 1111 1111 1111';
    const first = findings(text);
    for (let i = 0; i < 5; i++) expect(findings(text)).toEqual(first);
  });
});

describe('looking inside encoded values', () => {
  const payload = {
    _auth_user_id: '12',
    email: 'jane.doe@gmail.com',
    name: 'Jane Smith',
    phone: '+44 20 7946 0958',
  };

  it('reads Django signed sessions, compressed (leading dot) or not', () => {
    const json = Buffer.from(JSON.stringify(payload));
    const compressed = `.${deflateSync(json).toString('base64url')}:1u2x3y:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789`;
    const plain = `${json.toString('base64url')}:1u2x3y:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789`;
    for (const session of [compressed, plain]) {
      expect(detectorsOf(session)).toEqual(['email', 'person-name', 'phone']);
    }
  });

  it('reads base64 inside JSON, URL-encoding and JSON \\u escapes', () => {
    const token = Buffer.from('mailto:jane.doe@gmail.com').toString('base64');
    expect(detectorsOf(JSON.stringify({ blob: token }))).toEqual(['email']);
    expect(detectorsOf('next=%2Fme%3Fname%3DJane%20Smith%26email%3Djane%40x.org')).toEqual([
      'email',
      'person-name',
    ]);
    expect(detectorsOf('{"shipping": {"name": "Jos\\u00e9 Garc\\u00eda"}}')).toEqual(['person-name']);
  });

  it('reads PostgreSQL array text', () => {
    expect(detectorsOf('{"Jane Smith",jane@mail.example,NULL}')).toEqual(['email', 'person-name']);
  });

  it('leaves binary and digests alone', () => {
    expect(
      detectorsOf(Buffer.from([0, 1, 2, 250, 251, 252, 7, 8, 9, 10, 11, 12]).toString('base64')),
    ).toEqual([]);
    expect(detectorsOf('pbkdf2_sha256$600000$AbCdEfGhIjKlMnOp$Zm9vYmFyYmF6cXV4cXV1eGZvb2Jhcg==')).toEqual([]);
  });
});

describe('redact', () => {
  it('shows the shape of a find and never the value', () => {
    expect(redact('email', 'jane.doe@gmail.com')).toBe('j***@g***.com');
    expect(redact('person-name', 'Jane Smith')).toBe('J*** S***');
    expect(redact('phone', '+44 20 7946 0958')).toBe('+4*** 2*** 7*** 0***');
  });
});
