import type { TextValue } from '../source/source.js';

/**
 * PostgreSQL COPY text format (the default of `COPY … TO STDOUT` / `FROM STDIN`): one row per
 * line, fields separated by a tab, `\N` for NULL, backslash escapes inside fields.
 * https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.2
 */

const NEWLINE = 0x0a;
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const NEEDS_ESCAPE_GLOBAL = /[\\\n\r\t]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The COPY text spelling of NULL. */
const COPY_NULL = '\\N';

/** Escapes one non-NULL value for a COPY text field. Values are passed through when nothing needs escaping. */
export function escapeCopyText(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(NEEDS_ESCAPE_GLOBAL, (c) => ESCAPES[c]!) : value;
}

/** Escapes a value or NULL for a COPY text field. */
export function copyTextField(value: TextValue): string {
  return value === null ? COPY_NULL : escapeCopyText(value);
}

/**
 * Incremental parser of COPY text format. Chunks may end anywhere (inside a UTF-8 character, an
 * escape sequence or a row); only complete lines are decoded.
 *
 * It runs once per exported value, so it is built for speed: a chunk's complete lines are
 * decoded to one string in a single call and cut into fields with `indexOf`; only lines that
 * contain a backslash go through the escape decoder. This works because in the text format a raw
 * tab or newline byte is always a delimiter unless a backslash precedes it, and bytes of
 * multi-byte UTF-8 characters never equal either.
 */
export class CopyTextParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  private width = 0;

  /** Parses the complete rows in `chunk` (plus what earlier chunks left over). */
  push(chunk: Buffer | Uint8Array | string): TextValue[][] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : toBuffer(chunk);
    const rows: TextValue[][] = [];
    if (this.ended || bytes.length === 0) return rows;
    const lastNewline = bytes.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      this.keep(bytes);
      return rows;
    }
    let complete = bytes.subarray(0, lastNewline + 1);
    if (this.pendingBytes > 0) {
      this.pending.push(complete);
      complete = Buffer.concat(this.pending, this.pendingBytes + complete.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const carried = this.parseLines(complete.toString('utf8'), rows);
    if (carried !== '') this.keep(Buffer.from(carried, 'utf8'));
    if (lastNewline + 1 < bytes.length && !this.ended) this.keep(bytes.subarray(lastNewline + 1));
    return rows;
  }

  /** Parses what is left after the last chunk: a final row without its newline. */
  end(): TextValue[][] {
    const rows: TextValue[][] = [];
    if (this.pendingBytes > 0 && !this.ended) {
      const rest = Buffer.concat(this.pending, this.pendingBytes).toString('utf8');
      this.pending = [];
      this.pendingBytes = 0;
      const carried = this.parseLines(`${rest}\n`, rows);
      if (carried !== '') rows.push(splitLine(carried.slice(0, -1)));
    }
    this.ended = true;
    return rows;
  }

  private keep(bytes: Buffer): void {
    // The caller's buffer may be reused by the stream that produced it.
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
  }

  /** Appends the rows of `text` (which ends with a newline) and returns an unfinished tail, if any. */
  private parseLines(text: string, rows: TextValue[][]): string {
    // Scans with indexOf for the next tab, newline and backslash instead of splitting lines and
    // then fields: half the allocations, twice the speed. Lines with a backslash go the slow way.
    const length = text.length;
    let position = 0;
    let newline = text.indexOf('\n');
    let tab = indexOrEnd(text, '\t', 0);
    let backslash = indexOrEnd(text, '\\', 0);
    while (position < length) {
      if (backslash < newline) {
        // A backslash right before the newline escapes it: the row goes on.
        while (endsWithOddBackslashes(text, newline)) {
          newline = text.indexOf('\n', newline + 1);
          if (newline === -1) return text.slice(position);
        }
        const line = text.slice(position, newline);
        if (line === '\\.') {
          this.ended = true;
          return '';
        }
        rows.push(splitEscapedLine(line));
        position = newline + 1;
        if (position === length) break;
        newline = text.indexOf('\n', position);
        tab = indexOrEnd(text, '\t', position);
        backslash = indexOrEnd(text, '\\', position);
        continue;
      }
      // Rows of one COPY have one width: sizing the array up front saves its regrowth.
      const row: TextValue[] = new Array(this.width);
      let field = 0;
      while (tab < newline) {
        row[field++] = text.slice(position, tab);
        position = tab + 1;
        tab = indexOrEnd(text, '\t', position);
      }
      row[field++] = text.slice(position, newline);
      if (field !== this.width) {
        row.length = field;
        this.width = field;
      }
      rows.push(row);
      position = newline + 1;
      if (position === length) break;
      newline = text.indexOf('\n', position);
    }
    return '';
  }
}

function indexOrEnd(text: string, search: string, from: number): number {
  const index = text.indexOf(search, from);
  return index === -1 ? text.length : index;
}

/** Parses a stream of COPY text output into batches of `batchRows` rows (the last may be shorter). */
export async function* parseCopyText(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
  batchRows = 8192,
): AsyncGenerator<TextValue[][]> {
  batchRows = Math.max(1, Math.floor(batchRows));
  const parser = new CopyTextParser();
  let batch: TextValue[][] = [];
  for await (const chunk of chunks) {
    const rows = parser.push(chunk);
    for (let i = 0; i < rows.length; i++) {
      batch.push(rows[i]!);
      if (batch.length === batchRows) {
        yield batch;
        batch = [];
      }
    }
  }
  for (const row of parser.end()) {
    batch.push(row);
    if (batch.length === batchRows) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Decodes the backslash escapes of one field (not `\N`, which only means NULL as a whole field). */
export function unescapeCopyText(field: string): string {
  if (!field.includes('\\')) return field;
  // Octal and hex escapes stand for bytes, which may form multi-byte characters together.
  if (BYTE_ESCAPE.test(field)) return unescapeBytes(field);
  return field.replace(SIMPLE_ESCAPE, (_, c: string) => SIMPLE_UNESCAPES[c] ?? c);
}

const BYTE_ESCAPE = /\\(?:[0-7]|x[0-9a-fA-F])/;
const SIMPLE_ESCAPE = /\\([\s\S])/g;
const SIMPLE_UNESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};
const SIMPLE_UNESCAPE_BYTES: Readonly<Record<number, number>> = {
  98: 0x08,
  102: 0x0c,
  110: 0x0a,
  114: 0x0d,
  116: 0x09,
  118: 0x0b,
};

function unescapeBytes(field: string): string {
  const input = Buffer.from(field, 'utf8');
  const output = Buffer.allocUnsafe(input.length);
  let o = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== 0x5c || i + 1 === input.length) {
      output[o++] = c;
      continue;
    }
    const next = input[++i]!;
    if (next >= 0x30 && next <= 0x37) {
      let value = next - 0x30;
      for (let k = 0; k < 2 && i + 1 < input.length && isOctal(input[i + 1]!); k++) {
        value = value * 8 + input[++i]! - 0x30;
      }
      output[o++] = value & 0xff;
    } else if (next === 0x78 && i + 1 < input.length && hexValue(input[i + 1]!) >= 0) {
      let value = hexValue(input[++i]!);
      if (i + 1 < input.length && hexValue(input[i + 1]!) >= 0) value = value * 16 + hexValue(input[++i]!);
      output[o++] = value;
    } else {
      output[o++] = SIMPLE_UNESCAPE_BYTES[next] ?? next;
    }
  }
  return output.toString('utf8', 0, o);
}

function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function endsWithOddBackslashes(text: string, end: number): boolean {
  let count = 0;
  for (let i = end - 1; i >= 0 && text.charCodeAt(i) === 0x5c; i--) count++;
  return (count & 1) === 1;
}

function splitLine(line: string): TextValue[] {
  return line.includes('\\') ? splitEscapedLine(line) : line.split('\t');
}

/** Splits a line that contains backslashes: a backslash also escapes a raw tab. */
function splitEscapedLine(line: string): TextValue[] {
  const fields: TextValue[] = [];
  let start = 0;
  const length = line.length;
  for (let i = 0; i < length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c) {
      i++;
    } else if (c === 0x09) {
      fields.push(unescapeField(line.slice(start, i)));
      start = i + 1;
    }
  }
  fields.push(unescapeField(line.slice(start)));
  return fields;
}

function unescapeField(raw: string): TextValue {
  return raw === COPY_NULL ? null : unescapeCopyText(raw);
}

function toBuffer(chunk: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
