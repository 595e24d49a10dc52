import { textPiece } from '../../core/anonymise/anonymise-column.js';
import type { Anonymiser, ValueFunction } from '../../core/anonymise/anonymiser.js';
import type { DetectedSpan } from '../../core/anonymise/detectors/detector.js';
import { allowProblems } from '../../core/anonymise/detectors/detector-names.js';
import {
  BASE64_TOKEN,
  decodeBase64,
  encodeBase64,
  mapPercentEncoded,
  PERCENT_ESCAPE,
} from '../../core/anonymise/detectors/encoded-payloads.js';
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
  username: fake('internet.username'),
  city: fake('location.city'),
  postcode: fake('location.zipCode'),
} as const;

/** Payloads inside payloads (base64 of zlib of JSON) are scrubbed up to this depth. */
const MAX_DEPTH = 4;
/** Passes over scrub's own output: what a pass's replacements reveal is replaced by the next. */
const MAX_PASSES = 3;

/**
 * Replaces only the personal parts of free text and keeps the rest readable: "Order #12 for Jane
 * Smith, jane@mail.example" becomes "Order #12 for Lucy Brown, lucy.brown.k2x9d0qa@example.org".
 * What counts is what the export's detectors find (names as given-and-family pairs, emails,
 * phones, cards, IBANs, national ids, IP and street addresses) and the source's own personal
 * values (the export's known-value index: the names, usernames, cities, streets and postcodes of
 * columns whose rules fake them), each replaced with its column rule's fake; `allow` leaves some
 * as they are. Payloads are scrubbed inside (base64, zlib, gzip, URL-encoding, and so Django's
 * signed values) and written back the way they were; a signed value keeps its old signature, which
 * no longer matches, so the application treats it as tampered (Django: an empty, signed-out
 * session). The output is checked again and what a pass left is replaced by the next. On
 * json/jsonb it scrubs every string inside; on arrays, every element.
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
      const detectors = await tools.detectors();
      const known = await tools.knownValues();
      const knownDetector = known?.detector(allowed) ?? null;
      const scanner = new PersonalDataScanner([
        // First: where it finds what a pattern finds too (an email), its column's fake wins.
        ...(knownDetector ? [knownDetector] : []),
        ...[...detectors.values()].filter((d) => !allowed.has(d.name)),
      ]);
      const text = textPiece(column);
      const bound = {} as Record<keyof typeof FAKES, ValueFunction>;
      for (const [name, rule] of Object.entries(FAKES)) {
        bound[name as keyof typeof FAKES] = await tools.bind(rule, text);
      }
      const key = tools.key(this);
      const noRow = { get: () => null, toObject: () => ({}), key: () => '' };
      const fakeOf = (fn: ValueFunction, value: string): string => fn(value, noRow, 0) ?? '';
      const replace = (span: DetectedSpan, found: string): string => {
        const own = span.source === undefined ? null : (known?.replace(span.source, found) ?? null);
        if (own !== null) return own;
        switch (span.detector) {
          case 'person-name':
            return found.includes(' ')
              ? fakeName(
                  found,
                  (given) => fakeOf(bound.givenName, given),
                  (family) => fakeOf(bound.familyName, family),
                )
              : fakeOf(bound.givenName, found);
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
          case 'username':
            return fakeOf(bound.username, found);
          case 'city':
            return fakeOf(bound.city, found);
          case 'postcode':
            return fakeOf(bound.postcode, found);
          case 'national-id':
            return sameShape(found, key.random(found));
        }
      };
      /**
       * One pass over plain text. `made` are the ranges of `input` an earlier pass wrote (fakes look
       * personal by design: "Retha Bogan" reads as a name); a find that lies within them is left
       * alone. Returns the output and its made-up ranges.
       */
      const replaceSpans = (input: string, made: readonly Range[]): Pass => {
        const spans = scanner.spans(input).filter((span) => !madeUp(input, span, made));
        if (spans.length === 0) return { text: input, made };
        let output = '';
        let at = 0;
        let range = 0;
        const written: Range[] = [];
        // Earlier ranges before `end` move with the text; those a replacement overlaps are gone.
        const carry = (end: number) => {
          const shift = output.length - at;
          for (; range < made.length && (made[range] as Range)[0] < end; range++) {
            const [from, to] = made[range] as Range;
            if (from >= at && to <= end) written.push([from + shift, to + shift]);
          }
        };
        for (const span of spans) {
          carry(span.start);
          const replacement = replace(span, input.slice(span.start, span.end));
          output += input.slice(at, span.start);
          written.push([output.length, output.length + replacement.length]);
          output += replacement;
          at = span.end;
        }
        carry(input.length);
        return { text: output + input.slice(at), made: written };
      };
      const scrubText = (input: string, depth: number): string => {
        let pass: Pass = { text: input, made: [] };
        for (let round = 0; round < MAX_PASSES; round++) {
          const next = replaceSpans(pass.text, pass.made);
          if (next.text === pass.text) break;
          pass = next;
        }
        return depth < MAX_DEPTH ? scrubPayloads(pass.text, depth) : pass.text;
      };
      const scrubPayloads = (input: string, depth: number): string => {
        let output = input;
        if (output.length >= 16) {
          output = output.replace(BASE64_TOKEN, (token) => {
            const payload = decodeBase64(token);
            if (!payload) return token;
            const scrubbed = scrubText(payload.text, depth + 1);
            return scrubbed === payload.text ? token : encodeBase64(scrubbed, payload);
          });
        }
        if (PERCENT_ESCAPE.test(output))
          output = mapPercentEncoded(output, (decoded) => scrubText(decoded, depth + 1));
        return output;
      };
      if (column.family !== 'json') return (value) => (value === null ? null : scrubText(value, 0));
      const walk = (node: JsonValue): JsonValue => {
        if (typeof node === 'string') return scrubText(node, 0);
        if (Array.isArray(node)) return node.map(walk);
        if (node instanceof Map) for (const [name, item] of node) node.set(name, walk(item));
        return node;
      };
      return (value) => (value === null ? null : formatJson(walk(parseJson(value))));
    },
  };
}

/** `[start, end)` of text a pass wrote, in order. */
type Range = readonly [number, number];
interface Pass {
  readonly text: string;
  readonly made: readonly Range[];
}

/** A find whose every letter and digit lies in text an earlier pass wrote (separators may not). */
function madeUp(text: string, span: DetectedSpan, made: readonly Range[]): boolean {
  if (made.length === 0) return false;
  for (let at = span.start; at < span.end; at++) {
    if (!/[\p{L}\p{N}]/u.test(text[at] as string)) continue;
    if (!made.some(([from, to]) => from <= at && at < to)) return false;
  }
  return true;
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
