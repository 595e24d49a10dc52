import type { SeededRandom } from '../../core/anonymise/seeded-random.js';
import type { SeededFaker } from './faker-instances.js';

/** Builds one fake from a stream seeded by the value's keyed hash. */
export type FakeGenerator = (random: SeededRandom) => string;

/**
 * Generators for the methods most columns use (names, phones, street addresses, cities), built
 * once per rule from the faker locale's own word lists and patterns, that index those lists with
 * the seeded stream directly. faker's methods do the same with several layers of option parsing,
 * validation and template evaluation per call, which costs several times the pick itself. Returns
 * null for any other method, options or locale data it does not understand: faker then generates
 * the value, as before.
 *
 * Outputs differ from what faker itself would pick for the same seed (devsnap 0.2 changed the
 * fakes; see the changelog), and stay a deterministic function of (secret, rule, value).
 */
export function fakeGenerator(
  faker: SeededFaker,
  method: string,
  args: readonly unknown[],
  options: GeneratorOptions = {},
): FakeGenerator | null {
  try {
    return new GeneratorCompiler(faker, options.fold ?? ((text) => text)).method(method, args);
  } catch {
    // Locale data of an unexpected shape: faker knows what to do with it.
    return null;
  }
}

export interface GeneratorOptions {
  /**
   * Applied to every word and every literal part of a pattern once, when the generator is built
   * (an email's names folded to ASCII), instead of to every value made.
   */
  readonly fold?: (text: string) => string;
}

const NO_OPTIONS = Symbol('no options');

class GeneratorCompiler {
  private readonly definitions: Record<string, Record<string, unknown> | undefined>;
  /** Compiled generators by reference (`person.firstName`), shared by the patterns that use them. */
  private readonly compiled = new Map<string, FakeGenerator | null>();

  constructor(
    faker: SeededFaker,
    private readonly fold: (text: string) => string,
  ) {
    this.definitions = faker.definitions as unknown as Record<string, Record<string, unknown> | undefined>;
  }

  method(method: string, args: readonly unknown[]): FakeGenerator | null {
    const options = optionsOf(args);
    switch (method) {
      case 'person.firstName':
      case 'person.lastName':
      case 'location.street':
      case 'location.buildingNumber':
      case 'location.secondaryAddress':
      case 'location.city':
        return options === NO_OPTIONS ? this.reference(method) : null;
      case 'location.streetAddress': {
        const full =
          options === NO_OPTIONS
            ? false
            : typeof options === 'boolean'
              ? options
              : fullAddressOption(options);
        if (full === null) return null;
        return this.template(this.text('location', 'street_address', full ? 'full' : 'normal'));
      }
      case 'phone.number': {
        const style = options === NO_OPTIONS ? 'human' : styleOption(options);
        const formats = style === null ? null : this.list('phone_number', 'format', style);
        return formats ? digits(formats, '#', true) : null;
      }
      default:
        return null;
    }
  }

  /** A `{{module.name}}` inside a pattern: a method faker would call, or a word list. */
  private reference(path: string): FakeGenerator | null {
    if (this.compiled.has(path)) return this.compiled.get(path) ?? null;
    // A pattern that refers to itself (directly or not) is left to faker.
    this.compiled.set(path, null);
    const generator = this.build(path);
    this.compiled.set(path, generator);
    return generator;
  }

  private build(path: string): FakeGenerator | null {
    switch (path) {
      case 'person.firstName':
        return pick(this.names('first_name').map(this.fold));
      case 'person.lastName': {
        const patterns = this.definitions.person?.last_name_pattern as Record<string, unknown> | undefined;
        if (patterns === undefined) return pick(this.names('last_name').map(this.fold));
        const generic = patterns.generic;
        return Array.isArray(generic) ? this.weighted(generic) : null;
      }
      case 'location.street':
        return this.patterns(this.list('location', 'street_pattern'));
      case 'location.city':
        return this.patterns(this.list('location', 'city_pattern'));
      case 'location.buildingNumber': {
        const formats = this.list('location', 'building_number');
        return formats ? digits(formats, '#', false) : null;
      }
      case 'location.secondaryAddress': {
        const patterns = this.patterns(this.list('location', 'secondary_address'));
        return patterns ? numbered(patterns) : null;
      }
    }
    const [module, ...rest] = path.split('.');
    let node: unknown = module === undefined ? undefined : this.definitions[module];
    for (const key of rest) node = isRecord(node) ? node[key] : undefined;
    return Array.isArray(node) && node.every((item) => typeof item === 'string') ? this.patterns(node) : null;
  }

  /** A word list's entries, each of which may itself be a pattern. */
  private patterns(entries: readonly string[] | null): FakeGenerator | null {
    if (!entries || entries.length === 0) return null;
    if (!entries.some((entry) => entry.includes('{{'))) return pick(entries.map(this.fold));
    const generators = entries.map((entry) => this.template(entry));
    if (generators.some((generator) => generator === null)) return null;
    const all = generators as FakeGenerator[];
    return (random) => all[random.int(0, all.length - 1)]!(random);
  }

  /** `{ value, weight }` patterns, picked by weight (faker's last_name_pattern). */
  private weighted(entries: readonly unknown[]): FakeGenerator | null {
    const generators: FakeGenerator[] = [];
    const bounds: number[] = [];
    let total = 0;
    for (const entry of entries) {
      if (!isRecord(entry) || typeof entry.value !== 'string' || typeof entry.weight !== 'number')
        return null;
      if (!(entry.weight > 0)) return null;
      const generator = this.template(entry.value);
      if (!generator) return null;
      total += entry.weight;
      generators.push(generator);
      bounds.push(total);
    }
    if (generators.length === 0) return null;
    return (random) => {
      const at = random.next() * total;
      for (let i = 0; i < bounds.length; i++) if (at < bounds[i]!) return generators[i]!(random);
      return generators[generators.length - 1]!(random);
    };
  }

  /** `{{a.b}} text {{c.d}}` compiled to one function; null when a part is not understood. */
  private template(text: string | null): FakeGenerator | null {
    if (text === null) return null;
    const parts: (string | FakeGenerator)[] = [];
    let at = 0;
    for (const match of text.matchAll(/\{\{([a-z_]+(?:\.[A-Za-z_]+)+)\}\}/g)) {
      if (match.index > at) parts.push(this.fold(text.slice(at, match.index)));
      const generator = this.reference(match[1]!);
      if (!generator) return null;
      parts.push(generator);
      at = match.index + match[0].length;
    }
    if (at < text.length) parts.push(this.fold(text.slice(at)));
    if (parts.some((part) => typeof part === 'string' && part.includes('{{'))) return null;
    if (parts.length === 1 && typeof parts[0] === 'function') return parts[0];
    return (random) => {
      let output = '';
      for (const part of parts) output += typeof part === 'string' ? part : part(random);
      return output;
    };
  }

  /**
   * Every first (or last) name the locale has, whatever the sex, once each: faker draws from the
   * sex-specific lists most of the time, and a locale's generic list alone can be short (232
   * English first names against about 3,000 in all).
   */
  private names(key: 'first_name' | 'last_name'): readonly string[] {
    const lists = this.definitions.person?.[key];
    if (Array.isArray(lists)) return strings(lists);
    if (!isRecord(lists)) throw new Error(`no ${key}`);
    const all = new Set<string>();
    for (const sex of ['generic', 'female', 'male']) {
      const list = lists[sex];
      if (Array.isArray(list)) for (const name of strings(list)) all.add(name);
    }
    return [...all];
  }

  private list(module: string, ...path: string[]): readonly string[] | null {
    let node: unknown = this.definitions[module];
    for (const key of path) node = isRecord(node) ? node[key] : undefined;
    return Array.isArray(node) ? strings(node) : null;
  }

  private text(module: string, ...path: string[]): string | null {
    let node: unknown = this.definitions[module];
    for (const key of path) node = isRecord(node) ? node[key] : undefined;
    return typeof node === 'string' ? node : null;
  }
}

function pick(list: readonly string[]): FakeGenerator {
  if (list.length === 0) throw new Error('empty list');
  return (random) => list[random.int(0, list.length - 1)]!;
}

/**
 * Formats whose `symbol`s become digits, `!` digits 2–9 (faker's phone formats). Building numbers
 * start with a digit other than 0 (`allowLeadingZeros` false in faker).
 */
function digits(formats: readonly string[], symbol: string, bang: boolean): FakeGenerator {
  const compiled = formats.map((format) => [...format]);
  return (random) => {
    const format = compiled[random.int(0, compiled.length - 1)]!;
    let output = '';
    let leading = true;
    for (const char of format) {
      if (char === symbol) {
        output += String(random.int(!bang && leading ? 1 : 0, 9));
        leading = false;
      } else if (bang && char === '!') output += String(random.int(2, 9));
      else {
        output += char;
        leading = true;
      }
    }
    return output;
  };
}

/** Runs of `#` in what `inner` gives become a number without a leading zero (secondary addresses). */
function numbered(inner: FakeGenerator): FakeGenerator {
  return (random) =>
    inner(random).replace(/#+/g, (run) => {
      let number = String(random.int(1, 9));
      for (let i = 1; i < run.length; i++) number += String(random.int(0, 9));
      return number;
    });
}

function optionsOf(args: readonly unknown[]): unknown {
  if (args.length === 0) return NO_OPTIONS;
  if (args.length === 1) return args[0] === undefined ? NO_OPTIONS : args[0];
  return null;
}

function fullAddressOption(options: unknown): boolean | null {
  if (!isRecord(options)) return null;
  const keys = Object.keys(options);
  if (keys.some((key) => key !== 'useFullAddress')) return null;
  const full = options.useFullAddress;
  return full === undefined ? false : typeof full === 'boolean' ? full : null;
}

function styleOption(options: unknown): string | null {
  if (!isRecord(options)) return null;
  const keys = Object.keys(options);
  if (keys.some((key) => key !== 'style')) return null;
  const style = options.style ?? 'human';
  return typeof style === 'string' ? style : null;
}

function strings(list: readonly unknown[]): readonly string[] {
  if (!list.every((item) => typeof item === 'string')) throw new Error('not a word list');
  return list as readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
