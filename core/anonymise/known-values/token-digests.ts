import { createHmac } from 'node:crypto';
import { SipHash24 } from '../sip-hash.js';

/** Words: runs of letters and digits. Everything between two words is a separator. */
const WORD_CHAR = /[\p{L}\p{N}]/uy;
const NON_ASCII = /[^\u0020-\u007e]/;
/** A value's words may be at most this far apart (`, `, ` & `…): longer gaps end a sequence. */
export const MAX_SEPARATOR = 3;
/** Token digests kept per process; a text's words repeat, so most lookups hit. */
const CACHE_LIMIT = 200_000;

/** The words of a text with their positions. */
export interface Words {
  readonly text: string;
  readonly starts: number[];
  readonly ends: number[];
}

/** The words of a text; `reuse` lends its arrays (emptied first) to a caller that keeps none of it. */
export function words(text: string, reuse?: { readonly starts: number[]; readonly ends: number[] }): Words {
  const starts = reuse?.starts ?? [];
  const ends = reuse?.ends ?? [];
  starts.length = 0;
  ends.length = 0;
  let start = -1;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    // ASCII letters and digits without a regular expression; the rest as Unicode says.
    const inWord =
      code < 0x80
        ? (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
        : wordChar(text, at);
    if (inWord) {
      if (start < 0) start = at;
      // A letter outside the BMP is two code units: both belong to the word.
      if (code >= 0xd800 && code <= 0xdbff) at++;
    } else if (start >= 0) {
      starts.push(start);
      ends.push(at);
      start = -1;
    }
  }
  if (start >= 0) {
    starts.push(start);
    ends.push(text.length);
  }
  return { text, starts, ends };
}

function wordChar(text: string, at: number): boolean {
  WORD_CHAR.lastIndex = at;
  return WORD_CHAR.test(text);
}

/** What lies between two words, as values and texts write it alike: any whitespace is one space. */
export function separator(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[’‘`]/g, "'");
}

/**
 * Keyed digests of word sequences, so that an index of personal values holds no value and cannot
 * be tested against guesses without the key. Each word (lower case, NFC) and each separator gets
 * a SipHash-2-4 digest (a keyed pseudo-random function made for short inputs: a sixth of the cost
 * of an HMAC-SHA256 here, which matters when a million users' names are indexed), cached; a
 * sequence's digest mixes its parts' digests in order, so a text's n-grams cost one cached lookup
 * per word and a few multiplications each.
 */
export class TokenDigests {
  private readonly cache = new Map<string, number>();
  private readonly sip: SipHash24;
  private space: number | undefined;

  constructor(key: Buffer) {
    this.sip = new SipHash24(createHmac('sha256', key).update('devsnap/token-digests').digest());
  }

  /** 48 bits of SipHash(key, part): a word, or `\u0001` + a separator. */
  part(raw: string): number {
    let digest = this.cache.get(raw);
    if (digest === undefined) {
      const normal = NON_ASCII.test(raw) ? raw.normalize('NFC').toLowerCase() : raw.toLowerCase();
      this.sip.hash(normal);
      digest = this.sip.high * 65536 + (this.sip.low >>> 16);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(raw, digest);
    }
    return digest;
  }

  word(text: string, start: number, end: number): number {
    return this.part(text.slice(start, end));
  }

  separator(text: string, start: number, end: number): number {
    // Most words are one space apart.
    if (end - start === 1 && text.charCodeAt(start) === 32) {
      this.space ??= this.part('\u0001 ');
      return this.space;
    }
    return this.part(`\u0001${separator(text.slice(start, end))}`);
  }
}

/**
 * A running digest of a sequence of parts, as two 32-bit lanes (`a`, `b`): `push` a part's
 * digest, `final()` for the sequence so far. The parts are keyed digests already, so this only
 * has to keep different sequences apart.
 */
export class SequenceDigest {
  a = 0x9747b28c;
  b = 0x5bd1e995;

  reset(): this {
    this.a = 0x9747b28c;
    this.b = 0x5bd1e995;
    return this;
  }

  push(digest: number): void {
    const low = digest >>> 0;
    const high = Math.floor(digest / 4294967296);
    let a = Math.imul(this.a ^ low, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    let b = Math.imul(this.b ^ high ^ a, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64 + b) | 0;
    this.b = b;
  }

  /** The finished digest's lanes (never both zero, the digest table's empty mark). */
  finalA(): number {
    return fmix(this.a ^ Math.imul(this.b, 0x85ebca6b)) >>> 0;
  }

  finalB(): number {
    return fmix(this.b ^ Math.imul(this.a, 0xc2b2ae35)) >>> 0 || 1;
  }
}

function fmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
