import type { Data } from 'apache-arrow';
import { readInt64 } from './int64-value.js';
import { formatFloat32, formatFloat64, type PgArrowKind } from './pg-arrow-types.js';
import { civilDate, formatDateText, formatTimestampText } from './pg-temporal-text.js';

/**
 * Writes Arrow columns back as COPY text fields — the PostgreSQL text output of each value,
 * escaped for COPY, `\N` for NULL — straight into bytes. This is the inverse of
 * buildArrowColumn, and it runs once per imported value: it formats numbers, dates and
 * timestamps digit by digit and copies text bytes from the Arrow buffer, so no string is made
 * per value.
 */
export class CopyTextSink {
  buffer: Buffer;
  position = 0;

  constructor(capacity = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.buffer[this.position++] = value;
  }

  /** Writes ASCII text (digits, dates, `NaN`); callers reserve room first. */
  ascii(text: string): void {
    const buffer = this.buffer;
    let position = this.position;
    for (let i = 0; i < text.length; i++) buffer[position++] = text.charCodeAt(i);
    this.position = position;
  }

  /** Hands over what was written and starts a new buffer of the same size. */
  take(): Buffer {
    const written = this.buffer.subarray(0, this.position);
    this.buffer = Buffer.allocUnsafe(this.buffer.length);
    this.position = 0;
    return written;
  }
}

/** Writes the field of one row of a column into the sink. */
export type CopyFieldWriter = (sink: CopyTextSink, row: number) => void;

export function copyFieldWriter(kind: PgArrowKind, data: Data): CopyFieldWriter {
  const write = valueWriter(kind, data);
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return write;
  const offset = data.offset;
  return (sink, row) => {
    const bit = offset + row;
    if ((bitmap[bit >> 3]! >> (bit & 7)) & 1) write(sink, row);
    else {
      sink.reserve(2);
      sink.byte(BACKSLASH);
      sink.byte(0x4e);
    }
  };
}

const BACKSLASH = 0x5c;

function valueWriter(kind: PgArrowKind, data: Data): CopyFieldWriter {
  switch (kind) {
    case 'utf8':
      return utf8Writer(data);
    case 'binary':
      return binaryWriter(data);
    case 'bool': {
      // Arrow slices value buffers on `slice()`, except bit-packed booleans, which keep `offset`.
      const bits = data.values as Uint8Array;
      const offset = data.offset;
      return (sink, row) => {
        const bit = offset + row;
        sink.reserve(1);
        sink.byte((bits[bit >> 3]! >> (bit & 7)) & 1 ? 0x74 : 0x66);
      };
    }
    case 'int16':
    case 'int32': {
      const values = data.values as Int16Array | Int32Array;
      return (sink, row) => writeInteger(sink, values[row]!);
    }
    case 'int64': {
      const { unsigned, signed } = int64Words(data);
      return (sink, row) => {
        const value = readInt64(unsigned, signed, row);
        if (typeof value === 'number') writeInteger(sink, value);
        else writeAscii(sink, String(value));
      };
    }
    case 'float32': {
      const values = data.values as Float32Array;
      return (sink, row) => writeAscii(sink, formatFloat32(values[row]!));
    }
    case 'float64': {
      const values = data.values as Float64Array;
      return (sink, row) => writeAscii(sink, formatFloat64(values[row]!));
    }
    case 'date32': {
      const values = data.values as Int32Array;
      return (sink, row) => writeDate(sink, values[row]!);
    }
    case 'timestamp':
    case 'timestamptz': {
      const { unsigned, signed } = int64Words(data);
      const withZone = kind === 'timestamptz';
      return (sink, row) => {
        const value = readInt64(unsigned, signed, row);
        if (typeof value === 'number') writeTimestamp(sink, value, withZone);
        else writeAscii(sink, formatTimestampText(value, withZone));
      };
    }
  }
}

function writeAscii(sink: CopyTextSink, text: string): void {
  sink.reserve(text.length);
  sink.ascii(text);
}

/** Decimal digits of a safe integer. */
function writeInteger(sink: CopyTextSink, value: number): void {
  sink.reserve(21);
  const buffer = sink.buffer;
  if (value < 0) {
    buffer[sink.position++] = 0x2d;
    value = -value;
  }
  if (value < 10) {
    buffer[sink.position++] = 0x30 + value;
    return;
  }
  let digits = 0;
  for (let rest = value; rest >= 1; rest = Math.floor(rest / 10)) digits++;
  let position = sink.position + digits;
  sink.position = position;
  while (value >= 1) {
    const next = Math.floor(value / 10);
    buffer[--position] = 0x30 + (value - next * 10);
    value = next;
  }
}

function writePadded(buffer: Buffer, position: number, value: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) {
    buffer[position + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
  return position + width;
}

const DATE_PARTS = { year: 0, month: 0, day: 0 };

/** `YYYY-MM-DD` for years 1 to 9999; the rest (BC, five-digit years, infinity) through text. */
function writeDate(sink: CopyTextSink, days: number): void {
  civilDate(days, DATE_PARTS);
  if (DATE_PARTS.year < 1 || DATE_PARTS.year > 9999) {
    writeAscii(sink, formatDateText(days));
    return;
  }
  sink.reserve(10);
  writeDateParts(sink);
}

function writeDateParts(sink: CopyTextSink): void {
  const buffer = sink.buffer;
  let position = writePadded(buffer, sink.position, DATE_PARTS.year, 4);
  buffer[position++] = 0x2d;
  position = writePadded(buffer, position, DATE_PARTS.month, 2);
  buffer[position++] = 0x2d;
  sink.position = writePadded(buffer, position, DATE_PARTS.day, 2);
}

const MICROS_PER_DAY = 86_400_000_000;

function writeTimestamp(sink: CopyTextSink, micros: number, withZone: boolean): void {
  const days = Math.floor(micros / MICROS_PER_DAY);
  civilDate(days, DATE_PARTS);
  if (DATE_PARTS.year < 1 || DATE_PARTS.year > 9999) {
    writeAscii(sink, formatTimestampText(micros, withZone));
    return;
  }
  sink.reserve(32);
  writeDateParts(sink);
  const microsOfDay = micros - days * MICROS_PER_DAY;
  const secondsOfDay = Math.floor(microsOfDay / 1_000_000);
  let fraction = microsOfDay - secondsOfDay * 1_000_000;
  const buffer = sink.buffer;
  let position = sink.position;
  buffer[position++] = 0x20;
  position = writePadded(buffer, position, Math.floor(secondsOfDay / 3600), 2);
  buffer[position++] = 0x3a;
  position = writePadded(buffer, position, Math.floor((secondsOfDay % 3600) / 60), 2);
  buffer[position++] = 0x3a;
  position = writePadded(buffer, position, secondsOfDay % 60, 2);
  if (fraction !== 0) {
    // PostgreSQL drops trailing zeros of the fraction.
    let width = 6;
    while (fraction % 10 === 0) {
      fraction /= 10;
      width--;
    }
    buffer[position++] = 0x2e;
    position = writePadded(buffer, position, fraction, width);
  }
  if (withZone) {
    buffer[position++] = 0x2b;
    buffer[position++] = 0x30;
    buffer[position++] = 0x30;
  }
  sink.position = position;
}

function int64Words(data: Data): { unsigned: Uint32Array; signed: Int32Array } {
  const values = data.values as BigInt64Array;
  return {
    unsigned: new Uint32Array(values.buffer, values.byteOffset, values.length * 2),
    signed: new Int32Array(values.buffer, values.byteOffset, values.length * 2),
  };
}

function byteView(data: Data): { bytes: Buffer; offsets: Int32Array } {
  const values = data.values as Uint8Array;
  return {
    bytes: Buffer.from(values.buffer, values.byteOffset, values.byteLength),
    offsets: data.valueOffsets as Int32Array,
  };
}

// Bytes COPY text needs escaped, and the letter that follows the backslash.
const ESCAPED = new Uint8Array(256);
ESCAPED[0x5c] = 0x5c;
ESCAPED[0x0a] = 0x6e;
ESCAPED[0x0d] = 0x72;
ESCAPED[0x09] = 0x74;

function utf8Writer(data: Data): CopyFieldWriter {
  const { bytes, offsets } = byteView(data);
  const used = bytes.subarray(offsets[0]!, offsets[offsets.length - 1]!);
  // Most columns hold nothing to escape: then each value is a plain byte copy.
  const plain =
    used.indexOf(0x5c) === -1 &&
    used.indexOf(0x0a) === -1 &&
    used.indexOf(0x0d) === -1 &&
    used.indexOf(0x09) === -1;
  if (plain) {
    return (sink, row) => {
      const start = offsets[row]!;
      const end = offsets[row + 1]!;
      sink.reserve(end - start);
      if (end - start > 32) {
        sink.position += bytes.copy(sink.buffer, sink.position, start, end);
        return;
      }
      const buffer = sink.buffer;
      let position = sink.position;
      for (let i = start; i < end; i++) buffer[position++] = bytes[i]!;
      sink.position = position;
    };
  }
  return (sink, row) => {
    const start = offsets[row]!;
    const end = offsets[row + 1]!;
    sink.reserve(2 * (end - start));
    const buffer = sink.buffer;
    let position = sink.position;
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      const escaped = ESCAPED[byte]!;
      if (escaped === 0) buffer[position++] = byte;
      else {
        buffer[position++] = BACKSLASH;
        buffer[position++] = escaped;
      }
    }
    sink.position = position;
  };
}

const HEX = Buffer.from('0123456789abcdef');

function binaryWriter(data: Data): CopyFieldWriter {
  const { bytes, offsets } = byteView(data);
  return (sink, row) => {
    const start = offsets[row]!;
    const end = offsets[row + 1]!;
    // bytea hex output is `\x…`; its backslash is doubled for COPY.
    sink.reserve(3 + 2 * (end - start));
    const buffer = sink.buffer;
    let position = sink.position;
    buffer[position++] = BACKSLASH;
    buffer[position++] = BACKSLASH;
    buffer[position++] = 0x78;
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      buffer[position++] = HEX[byte >> 4]!;
      buffer[position++] = HEX[byte & 15]!;
    }
    sink.position = position;
  };
}
