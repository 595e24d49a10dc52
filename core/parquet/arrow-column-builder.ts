import { type Data, makeData } from 'apache-arrow';
import type { TextValue } from '../source/source.js';
import { parseInt64Text, writeInt64 } from './int64-value.js';
import {
  arrowDataType,
  type PgArrowKind,
  parseByteaText,
  parseFloat4Text,
  parseFloatText,
} from './pg-arrow-types.js';
import { parseDateText, parseTimestampText } from './pg-temporal-text.js';

/**
 * Builds one Arrow column from rows of PostgreSQL text values, writing typed buffers directly:
 * apache-arrow's generic builders (`vectorFromArray`) are about ten times slower on this path.
 * Throws a RangeError naming the value when a text does not parse as its kind.
 */
export function buildArrowColumn(kind: PgArrowKind, rows: Rows, column: number): Data {
  return makeData({ type: arrowDataType(kind), ...columnBuffers(kind, rows, column) });
}

function columnBuffers(kind: PgArrowKind, rows: Rows, column: number): Buffers<ArrayBufferView> {
  const length = rows.length;
  switch (kind) {
    case 'utf8':
      return utf8Buffers(rows, column);
    case 'binary':
      return binaryBuffers(rows, column);
    case 'bool':
      return boolBuffers(rows, column);
    case 'int16':
      return numberBuffers(rows, column, new Int16Array(length), parseIntText);
    case 'int32':
      return numberBuffers(rows, column, new Int32Array(length), parseIntText);
    case 'float32':
      return numberBuffers(rows, column, new Float32Array(length), parseFloat4Text);
    case 'float64':
      return numberBuffers(rows, column, new Float64Array(length), parseFloatText);
    case 'date32':
      return numberBuffers(rows, column, new Int32Array(length), parseDateText);
    case 'int64':
      return int64Buffers(rows, column, parseInt64Text);
    case 'timestamp':
    case 'timestamptz':
      return int64Buffers(rows, column, parseTimestampText);
  }
}

type Rows = readonly (readonly TextValue[])[];

interface Buffers<T> {
  length: number;
  nullCount: number;
  nullBitmap: Uint8Array | undefined;
  data: T;
}

interface VariableWidthBuffers extends Buffers<Uint8Array> {
  valueOffsets: Int32Array;
}

/** Validity bitmap with one bit per row, or undefined when nothing is NULL. */
class Validity {
  readonly bits: Uint8Array;
  nulls = 0;

  constructor(length: number) {
    this.bits = new Uint8Array((length + 7) >> 3);
  }

  set(index: number): void {
    this.bits[index >> 3]! |= 1 << (index & 7);
  }

  get bitmap(): Uint8Array | undefined {
    return this.nulls === 0 ? undefined : this.bits;
  }
}

function utf8Buffers(rows: Rows, column: number): VariableWidthBuffers {
  const length = rows.length;
  const validity = new Validity(length);
  let chars = 0;
  for (let i = 0; i < length; i++) {
    const value = rows[i]![column]!;
    if (value === null) validity.nulls++;
    else {
      validity.set(i);
      chars += value.length;
    }
  }
  // A UTF-16 code unit never takes more than three UTF-8 bytes. Short ASCII values are copied
  // by hand (a native call costs more than the copy); the rest are encoded natively.
  const bytes = Buffer.allocUnsafe(chars * 3);
  const offsets = new Int32Array(length + 1);
  let offset = 0;
  for (let i = 0; i < length; i++) {
    offsets[i] = offset;
    const value = rows[i]![column]!;
    if (value === null) continue;
    const size = value.length;
    if (size > 24) {
      offset += bytes.write(value, offset);
      continue;
    }
    let k = 0;
    for (; k < size; k++) {
      const code = value.charCodeAt(k);
      if (code > 0x7f) break;
      bytes[offset++] = code;
    }
    if (k < size) offset += bytes.write(k === 0 ? value : value.slice(k), offset);
  }
  offsets[length] = offset;
  return {
    length,
    nullCount: validity.nulls,
    nullBitmap: validity.bitmap,
    valueOffsets: offsets,
    data: bytes.subarray(0, offset),
  };
}

function binaryBuffers(rows: Rows, column: number): VariableWidthBuffers {
  const length = rows.length;
  const validity = new Validity(length);
  const offsets = new Int32Array(length + 1);
  let total = 0;
  for (let i = 0; i < length; i++) {
    offsets[i] = total;
    const value = rows[i]![column]!;
    if (value === null) {
      validity.nulls++;
      continue;
    }
    validity.set(i);
    total += (value.length - 2) >> 1;
  }
  offsets[length] = total;
  const bytes = Buffer.allocUnsafe(total);
  for (let i = 0; i < length; i++) {
    const value = rows[i]![column]!;
    if (value === null) continue;
    const expected = offsets[i + 1]! - offsets[i]!;
    const written =
      value.startsWith('\\x') && (value.length & 1) === 0
        ? bytes.write(value.slice(2), offsets[i]!, 'hex')
        : -1;
    // Buffer.write stops quietly at the first bad hex digit; parseByteaText says which value.
    if (written !== expected) parseByteaText(value);
  }
  return {
    length,
    nullCount: validity.nulls,
    nullBitmap: validity.bitmap,
    valueOffsets: offsets,
    data: bytes,
  };
}

function boolBuffers(rows: Rows, column: number): Buffers<Uint8Array> {
  const length = rows.length;
  const validity = new Validity(length);
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) {
    const value = rows[i]![column]!;
    if (value === null) {
      validity.nulls++;
      continue;
    }
    validity.set(i);
    if (value === 't') bits[i >> 3]! |= 1 << (i & 7);
    else if (value !== 'f') throw new RangeError(`"${value}" is not a boolean in PostgreSQL output format`);
  }
  return {
    length,
    nullCount: validity.nulls,
    nullBitmap: validity.bitmap,
    data: bits,
  };
}

type NumberArray = Int16Array | Int32Array | Float32Array | Float64Array;

function numberBuffers<T extends NumberArray>(
  rows: Rows,
  column: number,
  values: T,
  parse: (text: string) => number,
): Buffers<T> {
  const length = rows.length;
  const validity = new Validity(length);
  for (let i = 0; i < length; i++) {
    const value = rows[i]![column]!;
    if (value === null) {
      validity.nulls++;
      continue;
    }
    validity.set(i);
    values[i] = parse(value);
  }
  return {
    length,
    nullCount: validity.nulls,
    nullBitmap: validity.bitmap,
    data: values,
  };
}

function int64Buffers(
  rows: Rows,
  column: number,
  parse: (text: string) => number | bigint,
): Buffers<BigInt64Array> {
  const length = rows.length;
  const validity = new Validity(length);
  const values = new BigInt64Array(length);
  const words = new Uint32Array(values.buffer);
  for (let i = 0; i < length; i++) {
    const value = rows[i]![column]!;
    if (value === null) {
      validity.nulls++;
      continue;
    }
    validity.set(i);
    writeInt64(words, i, parse(value));
  }
  return {
    length,
    nullCount: validity.nulls,
    nullBitmap: validity.bitmap,
    data: values,
  };
}

function parseIntText(text: string): number {
  const value = +text;
  if (!Number.isInteger(value) || text === '') throw new RangeError(`"${text}" is not an integer`);
  return value;
}
