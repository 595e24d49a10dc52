import type { DetectedSpan } from '../detectors/detector.js';
import { DigestTable } from './digest-table.js';
import { CAPITALISED_KINDS, KIND_DETECTOR, type PersonalValueKind } from './personal-value-kind.js';
import { MAX_SEPARATOR, SequenceDigest, TokenDigests, type Words, words } from './token-digests.js';

/** Where a kind of personal value comes from: a column, or a JSON path inside one. */
export interface KnownValueSource {
  /** `schema.table.column`, then ` $.path` for values inside JSON. */
  readonly key: string;
  readonly kind: PersonalValueKind;
}

/** A find of the index in a text: a detector span that also names the source of the value. */
export interface KnownValueSpan extends DetectedSpan {
  /** Position of the source in `KnownValueIndex.sources`. */
  readonly source: number;
}

/** Values longer than this many words are not looked for (addresses and names are shorter). */
export const MAX_WORDS = 8;
const FORMAT = 'devsnap-known-values/2';
/**
 * A tag's high bit: some longer value starts with this word (so a text's word that is not such a
 * start, nor a value itself, costs one lookup). The other 15 bits name the source, NO_SOURCE none.
 */
const STARTS_LONGER = 0x8000;
const NO_SOURCE = 0x7fff;
/** Usernames of roles, not people: `ask the admin` is ordinary text wherever an `admin` account exists. */
const ROLE_ACCOUNTS = new Set([
  'admin',
  'administrator',
  'root',
  'support',
  'info',
  'test',
  'guest',
  'system',
  'staff',
  'user',
  'demo',
]);
const KEY_CHECK = 'devsnap-known-values-key-check';

/**
 * The source database's own personal values — names, usernames, emails, phones, streets, cities
 * and postcodes from the columns whose rules say they hold them — as keyed digests of their word
 * sequences, so free text can be searched for them: dictionaries cannot know that "Yevgeny" is a
 * person, the users table does. No value is kept, only 64-bit keyed digests (DigestTable: about
 * 20 bytes per distinct value), and a text costs one cached digest per word plus a table lookup
 * per word sequence up to the longest value.
 */
export class KnownValueIndex {
  private readonly sequence = new SequenceDigest();
  /** Per-text work arrays, reused: find() runs for every value an export checks. */
  private readonly scratch = { starts: [] as number[], ends: [] as number[] };
  private wordDigests = new Float64Array(64);
  private single = new Int32Array(64);

  private constructor(
    readonly sources: readonly KnownValueSource[],
    private readonly table: DigestTable,
    private readonly digests: TokenDigests,
    private readonly maxWords: number,
  ) {}

  static builder(
    sources: readonly KnownValueSource[],
    key: Buffer,
    common: ReadonlySet<string>,
  ): KnownValueIndexBuilder {
    return new KnownValueIndexBuilder(sources, new TokenDigests(key), common, (table, maxWords, digests) => {
      return new KnownValueIndex(sources, table, digests, maxWords);
    });
  }

  /** Distinct word sequences held. */
  get size(): number {
    return this.table.size;
  }

  /** Memory the digests take. */
  get bytes(): number {
    return this.table.bytes;
  }

  /**
   * Appends the spans of `text` that are indexed values, in order, longest first at each word.
   * `wanted` filters by kind (a rule's `allow`). Capitalised kinds (names, cities, streets) count
   * only where the text capitalises them. A given name followed by a family name is two finds,
   * each faked by its own column's rule, even where some full-name column holds the pair. Options:
   * `wholeSequences` counts only finds of two words or more; `distinctCase` counts a single
   * capitalised word only where the text's capitals say something — not in Title Case or ALL
   * CAPS text (`A Epic Drama of a Butler And a Hunter`, `ANNIE IDENTITY`) nor in a cell of one or
   * two capitalised words (`Georgia`), where only a given and family name pair does.
   */
  find(
    text: string,
    into: DetectedSpan[],
    wanted?: (kind: PersonalValueKind) => boolean,
    options: FindOptions = {},
  ): void {
    const found = words(text, this.scratch);
    const count = found.starts.length;
    if (count === 0) return;
    if (this.wordDigests.length < count) {
      this.wordDigests = new Float64Array(count * 2);
      this.single = new Int32Array(count * 2);
    }
    const { wordDigests, single } = this;
    const caseState: CaseState = { blind: undefined };
    for (let i = 0; i < count; i++)
      wordDigests[i] = this.digests.word(text, found.starts[i] as number, found.ends[i] as number);
    for (let i = 0; i < count; i++) {
      let best = -1;
      let bestEnd = i;
      this.sequence.reset();
      this.sequence.push(wordDigests[i] as number);
      for (let j = i; ; ) {
        const raw = this.table.get(this.sequence.finalA(), this.sequence.finalB());
        const tag = sourceOf(raw);
        if (j === i) single[i] = tag;
        if (tag >= 0 && this.accepts(tag, found, i, j, wanted)) {
          best = tag;
          bestEnd = j;
        }
        if (j === i && (raw < 0 || (raw & STARTS_LONGER) === 0)) break;
        const next = j + 1;
        if (next >= count || next - i >= this.maxWords) break;
        const gapStart = found.ends[j] as number;
        const gapEnd = found.starts[next] as number;
        if (gapEnd - gapStart > MAX_SEPARATOR) break;
        this.sequence.push(this.digests.separator(text, gapStart, gapEnd));
        this.sequence.push(wordDigests[next] as number);
        j = next;
      }
      if (best < 0) continue;
      const kind = this.sources[best]?.kind as PersonalValueKind;
      if (kind === 'full-name' && bestEnd > i && this.isPair(found, i, bestEnd, wordDigests, wanted)) {
        // Found as given and family name: each gets its own column's fake, as in the users table.
        const familyTag = this.singleTag(wordDigests[bestEnd] as number);
        if (options.wholeSequences) into.push(this.span(best, found, i, bestEnd));
        else {
          into.push(this.span(single[i] as number, found, i, i));
          into.push(this.span(familyTag, found, bestEnd, bestEnd));
        }
      } else if (bestEnd > i || singleCounts(kind, options, found, caseState))
        into.push(this.span(best, found, i, bestEnd));
      else if (this.pairs(found, i, wordDigests, wanted)) {
        into.push(this.span(best, found, i, i + 1));
        i++;
        continue;
      }
      i = bestEnd;
    }
  }

  /** A given name here and a family name right after it (one space apart). */
  private pairs(
    found: Words,
    first: number,
    wordDigests: Float64Array,
    wanted?: (kind: PersonalValueKind) => boolean,
  ): boolean {
    const next = first + 1;
    if (next >= found.starts.length) return false;
    if (found.text.slice(found.ends[first], found.starts[next]) !== ' ') return false;
    return this.isPair(found, first, next, wordDigests, wanted);
  }

  private span(tag: number, found: Words, first: number, last: number): KnownValueSpan {
    const kind = this.sources[tag]?.kind ?? 'full-name';
    return {
      detector: KIND_DETECTOR[kind],
      start: found.starts[first] as number,
      end: found.ends[last] as number,
      source: tag,
    };
  }

  private singleTag(digest: number): number {
    this.sequence.reset();
    this.sequence.push(digest);
    return sourceOf(this.table.get(this.sequence.finalA(), this.sequence.finalB()));
  }

  private isPair(
    found: Words,
    first: number,
    last: number,
    wordDigests: Float64Array,
    wanted?: (kind: PersonalValueKind) => boolean,
  ): boolean {
    const given = this.singleTag(wordDigests[first] as number);
    const family = this.singleTag(wordDigests[last] as number);
    return (
      given >= 0 &&
      family >= 0 &&
      this.sources[given]?.kind === 'given-name' &&
      this.sources[family]?.kind === 'family-name' &&
      this.accepts(given, found, first, first, wanted) &&
      this.accepts(family, found, last, last, wanted)
    );
  }

  private accepts(
    tag: number,
    found: Words,
    first: number,
    last: number,
    wanted?: (kind: PersonalValueKind) => boolean,
  ): boolean {
    const kind = this.sources[tag]?.kind;
    if (!kind || (wanted && !wanted(kind))) return false;
    if (!CAPITALISED_KINDS.has(kind)) return true;
    // A capitalised word decides: `Leeds`, `LEEDS`, `12 Mill Road` and `de Vries` count, `leeds` does not.
    const { text, starts } = found;
    for (let word = first; word <= last; word++) {
      const char = text[starts[word] as number] as string;
      if (char !== char.toLowerCase()) return true;
    }
    return false;
  }

  /** The index for a distributed export's workers: digests and source list, never a value. */
  toBytes(): Uint8Array {
    const header = Buffer.from(
      JSON.stringify({
        format: FORMAT,
        keyCheck: this.digests.part(KEY_CHECK),
        maxWords: this.maxWords,
        sources: this.sources,
      }),
    );
    const table = this.table.toBytes();
    const bytes = new Uint8Array(4 + header.length + table.length);
    new DataView(bytes.buffer).setUint32(0, header.length, true);
    bytes.set(header, 4);
    bytes.set(table, 4 + header.length);
    return bytes;
  }

  /**
   * Reads what toBytes wrote. `sources` are the ones the reading process derived from its own
   * config: they must be the writer's, and so must the key.
   */
  static fromBytes(bytes: Uint8Array, key: Buffer, sources: readonly KnownValueSource[]): KnownValueIndex {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(0, true);
    const header = JSON.parse(Buffer.from(bytes.subarray(4, 4 + length)).toString('utf8')) as {
      format: string;
      keyCheck: number;
      maxWords: number;
      sources: KnownValueSource[];
    };
    if (header.format !== FORMAT) throw new Error(`not a known-value index (${header.format})`);
    const digests = new TokenDigests(key);
    if (header.keyCheck !== digests.part(KEY_CHECK))
      throw new Error('the known-value index was written with another key');
    if (JSON.stringify(header.sources) !== JSON.stringify(sources))
      throw new Error('the known-value index was written for other columns');
    const table = DigestTable.fromBytes(bytes.subarray(4 + length));
    return new KnownValueIndex(sources, table, digests, header.maxWords);
  }
}

/** The source a table tag names, or -1. */
function sourceOf(tag: number): number {
  if (tag < 0) return -1;
  const source = tag & NO_SOURCE;
  return source === NO_SOURCE ? -1 : source;
}

/** Values the builder remembers having added (see add()). */
const RECENT_LIMIT = 8192;

/** How `KnownValueIndex.find` counts finds (see there). */
export interface FindOptions {
  readonly wholeSequences?: boolean;
  readonly distinctCase?: boolean;
}

/** Whether capitals say nothing in a text: worked out at its first single capitalised find, if any. */
interface CaseState {
  blind: boolean | undefined;
}

/** Whether a find of one word counts (see FindOptions). */
function singleCounts(
  kind: PersonalValueKind,
  options: FindOptions,
  found: Words,
  state: CaseState,
): boolean {
  if (options.wholeSequences) return false;
  if (!options.distinctCase || !CAPITALISED_KINDS.has(kind)) return true;
  state.blind ??= capitalsSayNothing(found);
  return !state.blind;
}

/**
 * ALL CAPS, or most of the text's words start with a capital: Title Case, and a cell that is one
 * or two capitalised words (a country `Georgia`, a district `West Java`), where a capital says
 * nothing about a person.
 */
function capitalsSayNothing(found: Words): boolean {
  let letters = 0;
  let capitals = 0;
  for (const start of found.starts) {
    const char = found.text[start] as string;
    const lower = char.toLowerCase();
    if (lower === char.toUpperCase()) continue;
    letters++;
    if (char !== lower) capitals++;
  }
  if (letters >= 2 && !/\p{Ll}/u.test(found.text)) return true;
  return capitals * 2 > letters;
}

/** Adds a source's values to an index being built; `finish()` returns the index. */
export class KnownValueIndexBuilder {
  private readonly table = new DigestTable();
  private readonly recent = new Map<string, number>();
  private readonly sequence = new SequenceDigest();
  private maxWords = 1;

  constructor(
    private readonly sources: readonly KnownValueSource[],
    private readonly digests: TokenDigests,
    private readonly common: ReadonlySet<string>,
    private readonly make: (table: DigestTable, maxWords: number, digests: TokenDigests) => KnownValueIndex,
  ) {}

  /** Adds one value of `sources[source]` when it is specific enough to look for in text. */
  add(source: number, value: string): void {
    const kind = this.sources[source]?.kind;
    if (!kind) return;
    // Names and cities repeat down a column: a value just added is not worked out again.
    if (this.recent.get(value) === source) return;
    if (this.recent.size >= RECENT_LIMIT) this.recent.clear();
    this.recent.set(value, source);
    const found = words(value);
    const count = found.starts.length;
    if (count === 0 || count > MAX_WORDS || !this.specific(kind, found)) return;
    for (let i = 1; i < count; i++)
      if ((found.starts[i] as number) - (found.ends[i - 1] as number) > MAX_SEPARATOR) return;
    this.addWords(source, found, 0);
    // `Flat 2, 156 Mill Road` is written `156 Mill Road` too: from each house number on.
    if (kind === 'street') {
      for (let i = 1; i + 1 < count; i++)
        if (/^\d+[A-Za-z]?$/.test(value.slice(found.starts[i], found.ends[i])))
          this.addWords(source, found, i);
    }
  }

  finish(): KnownValueIndex {
    return this.make(this.table, this.maxWords, this.digests);
  }

  private addWords(source: number, found: Words, from: number): void {
    const { text, starts, ends } = found;
    this.sequence.reset();
    for (let i = from; i < starts.length; i++) {
      if (i > from)
        this.sequence.push(this.digests.separator(text, ends[i - 1] as number, starts[i] as number));
      this.sequence.push(this.digests.word(text, starts[i] as number, ends[i] as number));
    }
    this.table.add(this.sequence.finalA(), this.sequence.finalB(), source);
    this.maxWords = Math.max(this.maxWords, starts.length - from);
    if (starts.length - from > 1) {
      this.sequence.reset();
      this.sequence.push(this.digests.word(text, starts[from] as number, ends[from] as number));
      this.table.flag(this.sequence.finalA(), this.sequence.finalB(), STARTS_LONGER, NO_SOURCE);
    }
  }

  /**
   * Whether a value says enough to be looked for: a single word that is an ordinary word (`May`,
   * `Reading`), a bare number (a postcode `12345`, a house number) or too short (`Li`, `bob`
   * as a username) would be found all over ordinary text.
   */
  private specific(kind: PersonalValueKind, found: Words): boolean {
    const { text, starts, ends } = found;
    let characters = 0;
    for (let i = 0; i < starts.length; i++) characters += (ends[i] as number) - (starts[i] as number);
    if (characters < 3) return false;
    if (starts.length > 1) return true;
    const word = text.slice(starts[0], ends[0]);
    if (/^\d+$/.test(word)) return kind === 'phone' && word.length >= 7;
    if (this.common.has(word.toLowerCase())) return false;
    return kind !== 'username' || (word.length >= 4 && !ROLE_ACCOUNTS.has(word.toLowerCase()));
  }
}
