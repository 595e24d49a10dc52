import { textPiece } from '../../core/anonymise/anonymise-column.js';
import type { Anonymiser, ValueFunction } from '../../core/anonymise/anonymiser.js';
import type { DetectedSpan } from '../../core/anonymise/detectors/detector.js';
import { allowProblems, DETECTOR_NAMES } from '../../core/anonymise/detectors/detector-names.js';
import { loadDetectors } from '../../core/anonymise/detectors/load-detectors.js';
import { PersonalDataScanner } from '../../core/anonymise/detectors/personal-data-scanner.js';
import { formatJson, type JsonValue, parseJson } from '../../core/anonymise/json-text.js';
import { optionProblems } from '../option-problems.js';
import type { AllowOption } from './allow-option.js';
import { fake } from './fake-anonymiser.js';

export interface ScrubOptions extends AllowOption {}

/**
 * The fakes scrub() puts in place of what it finds. They are the very rules a column would use
 * (`fake('person.firstName')`, `fake('internet.email')`, …), keyed alike, so a name faked in
 * auth_user.first_name becomes the same fake inside free text.
 */
const FAKES = {
  givenName: fake('person.firstName'),
  familyName: fake('person.lastName'),
  email: fake('internet.email'),
  phone: fake('phone.number', { args: { style: 'international' } }),
  card: fake('finance.creditCardNumber'),
  iban: fake('finance.iban'),
  ipv4: fake('internet.ipv4'),
  ipv6: fake('internet.ipv6'),
  street: fake('location.streetAddress'),
} as const;

/**
 * Replaces only the personal parts of free text and keeps the rest readable: "Order #12 for Jane
 * Smith, jane@mail.example" becomes "Order #12 for Lucy Brown, lucy.brown.k2x9d0qa@example.org".
 * What counts is what the export's detectors find (names as given-and-family pairs, emails,
 * phones, cards, IBANs, national ids, IP and street addresses); `allow` leaves some as they are.
 * On json/jsonb it scrubs every string inside; on arrays, every element.
 */
export function scrub(options: ScrubOptions = {}): Anonymiser {
  const allowed = new Set<string>(options.allow ?? []);
  return {
    kind: 'scrub',
    describe: () => 'scrub()',
    preserveNulls: true,
    canVary: false,
    ...(options.allow ? { allow: options.allow } : {}),
    validate(column) {
      const optionIssues = optionProblems('scrub()', options, ['allow']);
      if (optionIssues.length > 0) return optionIssues;
      const problems = allowProblems(options.allow, 'scrub()');
      if (!['text', 'other', 'json'].includes(column.family)) {
        problems.push(`scrub() works on text and json, but ${column.qualified} is ${column.column.dataType}`);
      }
      if (column.unique)
        problems.push(`scrub() cannot keep ${column.qualified} unique; use hash() or fake()`);
      return problems;
    },
    async bind(column, tools) {
      const detectors = await loadDetectors();
      const scanner = new PersonalDataScanner(
        DETECTOR_NAMES.filter((name) => !allowed.has(name))
          .map((name) => detectors.get(name))
          .filter((d) => d !== undefined),
      );
      const text = textPiece(column);
      const bound = {} as Record<keyof typeof FAKES, ValueFunction>;
      for (const [name, rule] of Object.entries(FAKES)) {
        bound[name as keyof typeof FAKES] = await tools.bind(rule, text);
      }
      const key = tools.key(this);
      const noRow = { get: () => null, toObject: () => ({}), key: () => '' };
      const fakeOf = (fn: ValueFunction, value: string): string => fn(value, noRow, 0) ?? '';
      const replace = (span: DetectedSpan, found: string): string => {
        switch (span.detector) {
          case 'person-name':
            return fakeName(
              found,
              (given) => fakeOf(bound.givenName, given),
              (family) => fakeOf(bound.familyName, family),
            );
          case 'email':
            return fakeOf(bound.email, found);
          case 'phone':
            return fakeOf(bound.phone, found);
          case 'payment-card':
            return fakeOf(bound.card, found.replace(/\D/g, ''));
          case 'iban':
            return fakeOf(bound.iban, found.replace(/ /g, ''));
          case 'ip-address':
            return fakeOf(found.includes(':') ? bound.ipv6 : bound.ipv4, found);
          case 'street-address':
            return fakeOf(bound.street, found);
          case 'national-id':
            return sameShape(found, key.random(found));
        }
      };
      const scrubText = (input: string): string => {
        const spans = scanner.spans(input);
        if (spans.length === 0) return input;
        let output = '';
        let at = 0;
        for (const span of spans) {
          output += input.slice(at, span.start) + replace(span, input.slice(span.start, span.end));
          at = span.end;
        }
        return output + input.slice(at);
      };
      if (column.family !== 'json') return (value) => (value === null ? null : scrubText(value));
      const walk = (node: JsonValue): JsonValue => {
        if (typeof node === 'string') return scrubText(node);
        if (Array.isArray(node)) return node.map(walk);
        if (node instanceof Map) for (const [name, item] of node) node.set(name, walk(item));
        return node;
      };
      return (value) => (value === null ? null : formatJson(walk(parseJson(value))));
    },
  };
}

/** `Jane Smith` → given and family faked one by one (a middle initial stays); capitals stay capitals. */
function fakeName(found: string, given: (name: string) => string, family: (name: string) => string): string {
  const words = found.split(' ');
  const upper = found === found.toUpperCase();
  const asListed = (word: string) => (upper ? word[0] + word.slice(1).toLowerCase() : word);
  const first = given(asListed(words[0] as string));
  const last = family(asListed(words[words.length - 1] as string));
  const faked = [first, ...words.slice(1, -1), last].join(' ');
  return upper ? faked.toUpperCase() : faked;
}

/** Every digit and letter replaced by a keyed one, separators kept: an id of the same shape. */
function sameShape(found: string, random: { int(min: number, max: number): number }): string {
  let output = '';
  for (const char of found) {
    if (char >= '0' && char <= '9') output += String(random.int(0, 9));
    else if (char >= 'A' && char <= 'Z') output += String.fromCharCode(65 + random.int(0, 25));
    else output += char;
  }
  return output;
}
