import type {
  AnonymiseColumn,
  Anonymiser,
  RowValues,
  TypeFamily,
  ValueFunction,
} from '../../core/anonymise/anonymiser.js';
import { fakerMethodKind } from '../../core/anonymise/known-values/personal-value-kind.js';
import type { SeededRandom } from '../../core/anonymise/seeded-random.js';
import { didYouMean } from '../../core/config/did-you-mean.js';
import { optionProblems } from '../option-problems.js';
import { type FakeGenerator, fakeGenerator } from './fake-generators.js';
import {
  fakerMethod,
  fakerMethodPaths,
  referenceFaker,
  type SeededFaker,
  seededFaker,
} from './faker-instances.js';
import { noteFakerLocale } from './faker-locales.js';
import { describeOptions, fitText, type RuleOptions, tokenFrom, withAttempt } from './rule-options.js';

export interface FakeOptions extends RuleOptions {
  /** faker locale(s) by name, e.g. `de` or `en_GB` (default `en`). */
  readonly locale?: string;
  /** Passed to the faker method: one options object, or an array of arguments. */
  readonly args?: unknown;
  /**
   * Identifier fakes (emails, usernames) carry a short keyed token so that a million distinct
   * inputs stay distinct in every table (default true for them; false turns it off).
   */
  readonly token?: boolean;
}

/** Methods whose outputs identify someone: they get a token by default. */
const IDENTIFIERS = new Set([
  'internet.email',
  'internet.exampleEmail',
  'internet.username',
  'internet.userName',
  'internet.displayName',
]);

const EXAMPLE_DOMAINS = ['example.com', 'example.net', 'example.org'];

/**
 * A realistic fake from faker, by method path: `fake('internet.email')`,
 * `fake('person.firstName', { locale: 'de' })`, `fake('phone.number', { args: { style: 'international' } })`.
 * The same input always gives the same fake (seeded by a keyed hash of the value). Fake email
 * addresses use the reserved example.com/.net/.org domains, so a development system can never
 * mail a real person.
 */
export function fake(method: string, options: FakeOptions = {}): Anonymiser {
  const locale = options.locale ?? 'en';
  noteFakerLocale(locale);
  const tokened = options.token ?? IDENTIFIERS.has(method);
  const args = options.args === undefined ? [] : Array.isArray(options.args) ? options.args : [options.args];
  const valueKind = fakerMethodKind(method);
  return {
    kind: 'fake',
    ...(valueKind ? { valueKind } : {}),
    describe: () =>
      `fake(${method}${describeOptions({ locale: options.locale, args: options.args, token: options.token })})`,
    preserveNulls: options.preserveNulls ?? true,
    canVary: true,
    validate(column) {
      const optionIssues = optionProblems('fake()', options, ['locale', 'args', 'token', 'preserveNulls']);
      if (optionIssues.length > 0) return optionIssues;
      const fn = fakerMethod(referenceFaker(), method);
      if (!fn) return [`fake(): no faker method ${method}${didYouMean(method, fakerMethodPaths())}`];
      if (!/^[a-z]{2,3}(_[A-Za-z]+)*$/.test(locale))
        return [`fake(): ${locale} is not a faker locale name (e.g. en, de, en_GB)`];
      let sample: unknown;
      try {
        sample = fn(...args);
      } catch (error) {
        return [
          `fake(${method}): the method failed with these args: ${error instanceof Error ? error.message : String(error)}`,
        ];
      }
      const problem = typeProblem(sample, column);
      return problem ? [`fake(${method}) ${problem}`] : [];
    },
    async bind(column, tools) {
      let loaded: Awaited<ReturnType<typeof seededFaker>>;
      try {
        loaded = await seededFaker(locale);
      } catch {
        throw new Error(`fake(${method}): faker has no locale ${locale}`);
      }
      const fn = fakerMethod(loaded.faker, method);
      if (!fn) throw new Error(`fake(): no faker method ${method}`);
      const key = tools.key(this);
      const email = method === 'internet.email' || method === 'internet.exampleEmail';
      const { random } = loaded;
      // Names, phones and addresses straight from the locale's lists; faker for everything else.
      const generate = fakeGenerator(loaded.faker, method, args);
      const joinedNames =
        tokened &&
        args.length === 0 &&
        (email || method === 'internet.username' || method === 'internet.userName')
          ? nameJoiner(loaded.faker)
          : null;
      const separator = email ? '.' : method.startsWith('internet.user') ? '_' : '-';
      // The name part is capped whatever the column, so one input gets one fake in a varchar(40)
      // key and a text column alike (and emails stay within 37 characters).
      const withToken = (text: string, token: string, domain: string) =>
        fitText(tokened || email ? cap(text) : text, `${separator}${token}${domain}`, column.maxLength);
      if (joinedNames) {
        // Names joined by hand: the token already makes them unique, and faker's own email and
        // username builders cost several times more than the two names.
        return neverItsInput(column, (value, row, attempt) => {
          if (value === null && this.preserveNulls) return null;
          const stream = key.picks(seedOf(value, row, attempt));
          const name = joinedNames(stream);
          const domain = email ? `@${EXAMPLE_DOMAINS[stream.int(0, EXAMPLE_DOMAINS.length - 1)]}` : '';
          if (column.family !== 'text') return `${name}${domain}`;
          return withToken(name, streamToken(stream), domain);
        });
      }
      if (generate) {
        // A stream keyed by SipHash under the rule's key (reseeded without allocating) picks the
        // fake from the locale's lists; the token comes from the same stream.
        return neverItsInput(column, (value, row, attempt) => {
          if (value === null && this.preserveNulls) return null;
          const stream = key.picks(seedOf(value, row, attempt));
          const text = toText(generate(stream), column.family);
          if (text === null || !(tokened || attempt > 0) || column.family !== 'text') return text;
          return withToken(text, streamToken(stream), '');
        });
      }
      // faker's own method, seeded as before: the fakes of every other generator are unchanged.
      return neverItsInput(column, (value, row, attempt) => {
        if (value === null && this.preserveNulls) return null;
        const digest = key.digest(seedOf(value, row, attempt));
        random.reseed(digest);
        const text = toText(fn(...args), column.family);
        if (text === null || !(tokened || attempt > 0) || column.family !== 'text') return text;
        const token = tokenFrom(digest.subarray(16));
        if (email) {
          const at = text.lastIndexOf('@');
          return withToken(text.slice(0, at), token, text.slice(at));
        }
        return withToken(text, token, '');
      });
    },
  };
}

/**
 * A text fake drawn again where it is the real value: faker's lists hold real names and cities
 * (Mia, Cambridge), and a value drawn as itself would leave its row, and every text that names it,
 * unchanged. (Not for other types: a fake boolean is its input half the time.)
 */
function neverItsInput(column: AnonymiseColumn, draw: ValueFunction): ValueFunction {
  if (column.family !== 'text') return draw;
  return (value, row, attempt) => {
    const output = draw(value, row, attempt);
    if (value === null || output === null || output.toLowerCase() !== value.toLowerCase()) return output;
    return draw(`${value}\0again`, row, attempt);
  };
}

/** Character codes of base 36's digits. */
const TOKEN_CODES = [...'0123456789abcdefghijklmnopqrstuvwxyz'].map((char) => char.charCodeAt(0));

/** An eight-character base-36 token from two words of a stream (tokenFrom's spelling of bytes). */
function streamToken(stream: SeededRandom): string {
  const high = stream.nextUint32();
  const low = stream.nextUint32();
  return String.fromCharCode(
    tokenCode(high, 0),
    tokenCode(high, 1),
    tokenCode(high, 2),
    tokenCode(high, 3),
    tokenCode(low, 0),
    tokenCode(low, 1),
    tokenCode(low, 2),
    tokenCode(low, 3),
  );
}

function tokenCode(word: number, byte: number): number {
  return TOKEN_CODES[((word >>> (8 * byte)) & 0xff) % 36]!;
}

/** seedInput() without a closure per value: the value, or the row's key for a NULL. */
function seedOf(value: string | null, row: RowValues, attempt: number): string {
  return withAttempt(value ?? `\0row\0${row.key()}`, attempt);
}

const NAME_PART = 15;
const SEPARATORS = ['.', '_', '.', ''];

/** `first.last`, `first_last` or `firstlast` from the locale's names, folded to ASCII once, up front. */
function nameJoiner(faker: SeededFaker): FakeGenerator {
  const first = fakeGenerator(faker, 'person.firstName', [], { fold: ascii });
  const last = fakeGenerator(faker, 'person.lastName', [], { fold: ascii });
  const firstName = first ?? (() => ascii(faker.person.firstName()));
  const lastName = last ?? (() => ascii(faker.person.lastName()));
  return (random) => {
    const separator = SEPARATORS[random.int(0, SEPARATORS.length - 1)] as string;
    return `${firstName(random)}${separator}${lastName(random)}`;
  };
}

function ascii(name: string): string {
  return /^[A-Za-z]+$/.test(name) ? name : name.normalize('NFKD').replace(/[^A-Za-z0-9]/g, '');
}

function cap(text: string): string {
  if (text.length <= NAME_PART) return text;
  // Cut by code points: a surrogate pair in the first NAME_PART + 1 units needs the slow way.
  let fast = true;
  for (let i = 0; i <= NAME_PART && fast; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) fast = false;
  }
  let cut = fast ? text.slice(0, NAME_PART) : [...text].slice(0, NAME_PART).join('');
  while (cut.length > 0 && SEPARATOR_CODES.has(cut.charCodeAt(cut.length - 1))) cut = cut.slice(0, -1);
  return cut;
}

/** `.`, `_` and `-`: a capped name does not end with one. */
const SEPARATOR_CODES = new Set([0x2e, 0x5f, 0x2d]);

function typeProblem(sample: unknown, column: AnonymiseColumn): string | null {
  const text = toText(sample, column.family);
  if (text === null) return null;
  switch (column.family) {
    case 'integer':
      return /^-?\d+$/.test(text)
        ? null
        : `does not produce integers, but ${column.qualified} is ${column.column.dataType}`;
    case 'numeric':
    case 'float':
      return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)
        ? null
        : `does not produce numbers, but ${column.qualified} is ${column.column.dataType}`;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return /^\d{4}-\d{2}-\d{2}/.test(text)
        ? null
        : `does not produce dates, but ${column.qualified} is ${column.column.dataType}`;
    case 'uuid':
      return /^[0-9a-f-]{36}$/i.test(text) ? null : `does not produce UUIDs, but ${column.qualified} is uuid`;
    case 'boolean':
      return text === 't' || text === 'f'
        ? null
        : `does not produce booleans, but ${column.qualified} is boolean`;
    case 'json':
      return `produces one value, but ${column.qualified} is ${column.column.dataType}; use jsonPaths({ '$.field': fake(…) })`;
    case 'inet':
      return /^[0-9a-f.:/]+$/i.test(text)
        ? null
        : `does not produce addresses, but ${column.qualified} is ${column.column.dataType}`;
    default:
      return null;
  }
}

/** A faker result in PostgreSQL text format for the column's type. */
function toText(output: unknown, family: TypeFamily): string | null {
  if (output === null || output === undefined) return null;
  if (output instanceof Date) {
    const iso = output.toISOString();
    if (family === 'date') return iso.slice(0, 10);
    if (family === 'timestamp') return iso.slice(0, 23).replace('T', ' ');
    if (family === 'timestamptz') return `${iso.slice(0, 23).replace('T', ' ')}+00`;
    return iso;
  }
  if (typeof output === 'number') return family === 'integer' ? String(Math.trunc(output)) : String(output);
  if (typeof output === 'bigint') return output.toString();
  if (typeof output === 'boolean') return family === 'boolean' ? (output ? 't' : 'f') : String(output);
  if (typeof output === 'string') return output;
  return JSON.stringify(output);
}
