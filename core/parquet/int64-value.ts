/**
 * Exact 64-bit integers without a BigInt per value: values that are safe integers travel as
 * numbers and are written to / read from the two 32-bit halves of an Int64 buffer; only the rest
 * (beyond ±2^53) pay for a BigInt. Arrow and Parquet store int64 little-endian, as do our typed
 * arrays on every platform Node supports.
 */
export type Int64Value = number | bigint;

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

const TWO_32 = 4294967296;
// Above this high word, hi * 2^32 + lo is no longer a safe integer.
const SAFE_HIGH = 2097152;

/** Writes `value` at `index` of an Int64 buffer seen as 32-bit words. */
export function writeInt64(words: Uint32Array, index: number, value: Int64Value): void {
  if (typeof value === 'number') {
    const high = Math.floor(value / TWO_32);
    words[2 * index] = value - high * TWO_32;
    // Uint32Array stores a negative high word as its two's complement.
    words[2 * index + 1] = high;
  } else {
    words[2 * index] = Number(value & 0xffffffffn);
    words[2 * index + 1] = Number((value >> 32n) & 0xffffffffn);
  }
}

/** Reads the value at `index` of an Int64 buffer seen both as unsigned and signed 32-bit words. */
export function readInt64(words: Uint32Array, signedWords: Int32Array, index: number): Int64Value {
  const high = signedWords[2 * index + 1]!;
  if (high >= -SAFE_HIGH && high < SAFE_HIGH) return high * TWO_32 + words[2 * index]!;
  return (BigInt(high) << 32n) | BigInt(words[2 * index]!);
}

/** Parses a PostgreSQL int8 text value exactly. */
export function parseInt64Text(text: string): Int64Value {
  if (text.length < 16) {
    const value = +text;
    if (Number.isInteger(value) && text !== '') return value;
  } else if (INT64_TEXT.test(text)) {
    const value = BigInt(text);
    if (value <= INT64_MAX && value >= INT64_MIN) return value;
  }
  throw new RangeError(`"${text}" is not an int8`);
}

const INT64_TEXT = /^[+-]?\d+$/;
