import { createHmac } from 'node:crypto';
import type { TextValue } from '../source/source.js';

/**
 * A row key or foreign-key value in compact form: a number for a single canonical integer of at
 * most 15 digits (always a safe integer), otherwise the text (several columns joined by NUL, which
 * PostgreSQL text never contains). Both sides of a comparison are encoded from PostgreSQL's text
 * output, so equal values give equal keys whatever the column types.
 */
export type Key = number | string;

const SAFE_INTEGER = /^-?(?:0|[1-9]\d{0,14})$/;
const SEPARATOR = '\u0000';

/** The key of a tuple of text values; null when any of them is NULL (such a foreign key references nothing). */
export function encodeKey(values: readonly TextValue[]): Key | null {
  if (values.length === 1) {
    const value = values[0] ?? null;
    if (value === null) return null;
    return SAFE_INTEGER.test(value) ? Number(value) : value;
  }
  for (const value of values) if (value === null) return null;
  return values.join(SEPARATOR);
}

/** The text values a key was encoded from. */
export function decodeKey(key: Key, arity: number): string[] {
  if (arity === 1) return [String(key)];
  return (key as string).split(SEPARATOR);
}

/** What checking rows against a set of keys needs: its size and membership. */
export interface KeyLookup {
  readonly size: number;
  has(key: Key): boolean;
}

/**
 * A set of keys that stays small for millions of integer keys: they live in one sorted
 * Float64Array (8 bytes each); other keys in a Set. Adding works in batches, which is how rows
 * arrive.
 */
export class KeySet implements Iterable<Key>, KeyLookup {
  private numbers = new Float64Array(0);
  private readonly strings = new Set<string>();

  static of(keys: Iterable<Key>): KeySet {
    const set = new KeySet();
    set.addAll(keys);
    return set;
  }

  get size(): number {
    return this.numbers.length + this.strings.size;
  }

  has(key: Key): boolean {
    if (typeof key === 'string') return this.strings.has(key);
    const numbers = this.numbers;
    let low = 0;
    let high = numbers.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = numbers[middle] as number;
      if (value === key) return true;
      if (value < key) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  /** Adds the keys and returns those that were not in the set yet (each once). */
  addAll(keys: Iterable<Key>): Key[] {
    const added: Key[] = [];
    const numbers: number[] = [];
    for (const key of keys) {
      if (typeof key === 'number') numbers.push(key);
      else if (!this.strings.has(key)) {
        this.strings.add(key);
        added.push(key);
      }
    }
    if (numbers.length === 0) return added;
    const incoming = Float64Array.from(numbers).sort();
    const current = this.numbers;
    const merged = new Float64Array(current.length + incoming.length);
    let i = 0;
    let j = 0;
    let length = 0;
    while (j < incoming.length) {
      const value = incoming[j] as number;
      j++;
      if (j < incoming.length && incoming[j] === value) continue;
      while (i < current.length && (current[i] as number) < value) merged[length++] = current[i++] as number;
      if (i < current.length && current[i] === value) continue;
      merged[length++] = value;
      added.push(value);
    }
    while (i < current.length) merged[length++] = current[i++] as number;
    this.numbers = length === merged.length ? merged : merged.slice(0, length);
    return added;
  }

  /** Removes the keys; returns how many were in the set. */
  deleteAll(keys: Iterable<Key>): number {
    let removed = 0;
    const numbers: number[] = [];
    for (const key of keys) {
      if (typeof key === 'number') numbers.push(key);
      else if (this.strings.delete(key)) removed++;
    }
    if (numbers.length === 0) return removed;
    const gone = KeySet.of(numbers);
    const kept = this.numbers.filter((value) => !gone.has(value));
    removed += this.numbers.length - kept.length;
    this.numbers = kept;
    return removed;
  }

  *[Symbol.iterator](): Iterator<Key> {
    yield* this.numbers;
    yield* this.strings;
  }

  /** The set as bytes: the count of numbers, the sorted numbers (float64 LE), then the strings as JSON. */
  toBytes(): Uint8Array {
    const strings = Buffer.from(JSON.stringify([...this.strings]), 'utf8');
    const bytes = Buffer.alloc(8 + this.numbers.length * 8 + strings.length);
    bytes.writeDoubleLE(this.numbers.length, 0);
    for (let i = 0; i < this.numbers.length; i++) bytes.writeDoubleLE(this.numbers[i] as number, 8 + i * 8);
    strings.copy(bytes, 8 + this.numbers.length * 8);
    return bytes;
  }

  static fromBytes(bytes: Uint8Array): KeySet {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = buffer.readDoubleLE(0);
    const set = new KeySet();
    set.numbers = new Float64Array(count);
    for (let i = 0; i < count; i++) set.numbers[i] = buffer.readDoubleLE(8 + i * 8);
    for (const key of JSON.parse(buffer.subarray(8 + count * 8).toString('utf8')) as string[]) {
      set.strings.add(key);
    }
    return set;
  }
}

/**
 * Keys kept only as keyed digests, for key sets that hold values of anonymised columns and must be
 * stored between the steps of a distributed export: membership works, the values cannot be read back.
 */
export class DigestKeySet implements KeyLookup {
  private constructor(
    private readonly digests: KeySet,
    private readonly digestKey: string,
  ) {}

  static of(keys: Iterable<Key>, digestKey: string): DigestKeySet {
    const digests = new KeySet();
    digests.addAll([...keys].map((key) => keyDigest(key, digestKey)));
    return new DigestKeySet(digests, digestKey);
  }

  static fromBytes(bytes: Uint8Array, digestKey: string): DigestKeySet {
    return new DigestKeySet(KeySet.fromBytes(bytes), digestKey);
  }

  get size(): number {
    return this.digests.size;
  }

  has(key: Key): boolean {
    return this.digests.has(keyDigest(key, this.digestKey));
  }

  toBytes(): Uint8Array {
    return this.digests.toBytes();
  }
}

/** 128 bits of HMAC-SHA256, as text so that it never collides with a numeric key. */
export function keyDigest(key: Key, digestKey: string): string {
  return createHmac('sha256', digestKey).update(String(key)).digest('base64url').slice(0, 22);
}
