import { describe, expect, it } from 'vitest';
import {
  CopyTextParser,
  copyTextField,
  escapeCopyText,
  parseCopyText,
  unescapeCopyText,
} from '../../core/copy/copy-text-format.js';
import type { TextValue } from '../../core/source/source.js';

/** Rows as PostgreSQL would print them, and the values they stand for. */
const SAMPLE_ROWS: TextValue[][] = [
  ['1', 'plain', ''],
  ['2', null, 'empty vs null'],
  ['3', 'tab\there', 'newline\nhere'],
  ['4', 'back\\slash', 'carriage\rreturn'],
  ['5', 'é 😀 中文', '\\N is not null here'],
  ['6', '\b\f\v', '\\'],
  ['7', '', null],
];
const SAMPLE_TEXT =
  '1\tplain\t\n' +
  '2\t\\N\tempty vs null\n' +
  '3\ttab\\there\tnewline\\nhere\n' +
  '4\tback\\\\slash\tcarriage\\rreturn\n' +
  '5\té 😀 中文\t\\\\N is not null here\n' +
  '6\t\\b\\f\\v\t\\\\\n' +
  '7\t\t\\N\n';

function parseAll(chunks: (Buffer | string)[]): TextValue[][] {
  const parser = new CopyTextParser();
  const rows = chunks.flatMap((chunk) => parser.push(chunk));
  return [...rows, ...parser.end()];
}

async function* asStream(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

describe('escapeCopyText', () => {
  it('escapes backslash, newline, carriage return and tab', () => {
    expect(escapeCopyText('a\\b\nc\rd\te')).toBe('a\\\\b\\nc\\rd\\te');
  });

  it('leaves other text alone, including non-ASCII and \\N-looking text once escaped', () => {
    expect(escapeCopyText('é 😀 ok')).toBe('é 😀 ok');
    expect(escapeCopyText('\\N')).toBe('\\\\N');
    expect(copyTextField(null)).toBe('\\N');
    expect(copyTextField('')).toBe('');
  });

  it('is undone by the parser for every value of the sample', () => {
    // PostgreSQL also escapes \b, \f and \v on output; COPY FROM does not need it.
    const text = `${SAMPLE_ROWS.map((row) => row.map(copyTextField).join('\t')).join('\n')}\n`;
    expect(text).toBe(SAMPLE_TEXT.replace('\\b\\f\\v', '\b\f\v'));
    expect(parseAll([text])).toEqual(SAMPLE_ROWS);
  });
});

describe('CopyTextParser', () => {
  const bytes = Buffer.from(SAMPLE_TEXT, 'utf8');

  it('parses the sample in one chunk: NULL, empty string and every escape', () => {
    expect(parseAll([bytes])).toEqual(SAMPLE_ROWS);
  });

  it('gives the same rows when the input is split at any byte, even inside a character or escape', () => {
    for (let at = 0; at <= bytes.length; at++) {
      expect(parseAll([bytes.subarray(0, at), bytes.subarray(at)]), `split at ${at}`).toEqual(SAMPLE_ROWS);
    }
  });

  it('gives the same rows when split at any two bytes', () => {
    for (let a = 1; a < bytes.length; a += 3) {
      for (let b = a; b < bytes.length; b += 5) {
        const chunks = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
        expect(parseAll(chunks), `split at ${a}, ${b}`).toEqual(SAMPLE_ROWS);
      }
    }
  });

  it('parses a byte at a time', () => {
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    expect(parseAll(chunks)).toEqual(SAMPLE_ROWS);
  });

  it('does not keep a reference to chunks it was given', () => {
    const parser = new CopyTextParser();
    const chunk = Buffer.from('1\tabc');
    expect(parser.push(chunk)).toEqual([]);
    chunk.fill(0x78);
    expect(parser.push(Buffer.from('def\n'))).toEqual([['1', 'abcdef']]);
  });

  it('decodes octal and hex escapes as bytes, so they can form UTF-8 characters', () => {
    expect(parseAll(['\\303\\251\t\\x41\\x4a\t\\101\\7\t\\xz\n'])).toEqual([['é', 'AJ', 'A\x07', 'xz']]);
  });

  it('treats a backslash before a raw tab or newline as data, as COPY FROM does', () => {
    expect(parseAll(['a\\\tb\tc\n'])).toEqual([['a\tb', 'c']]);
    expect(parseAll(['a\\\nb\tc\n'])).toEqual([['a\nb', 'c']]);
    expect(parseAll(['a\\', '\nb\tc\n'])).toEqual([['a\nb', 'c']]);
  });

  it('reads a single empty field as an empty string, and a final row without a newline', () => {
    expect(parseAll(['\n\n'])).toEqual([[''], ['']]);
    expect(parseAll(['a\tb\n', 'c\td'])).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('stops at the end-of-data marker', () => {
    expect(parseAll(['1\ta\n\\.\n', 'ignored\n'])).toEqual([['1', 'a']]);
  });

  it('unescapes one field on its own', () => {
    expect(unescapeCopyText('plain')).toBe('plain');
    expect(unescapeCopyText('a\\tb\\\\c\\q')).toBe('a\tb\\cq');
  });
});

describe('parseCopyText', () => {
  it('yields batches of the requested size, the last one shorter', async () => {
    const line = '1\tx\n';
    const chunks = Array.from({ length: 25 }, () => Buffer.from(line.repeat(3)));
    const sizes: number[] = [];
    for await (const batch of parseCopyText(asStream(chunks), 10)) sizes.push(batch.length);
    expect(sizes).toEqual([10, 10, 10, 10, 10, 10, 10, 5]);
  });

  it('yields nothing for empty input', async () => {
    const batches: TextValue[][][] = [];
    for await (const batch of parseCopyText(asStream([]), 10)) batches.push(batch);
    expect(batches).toEqual([]);
  });

  it('parses a large stream in odd-sized chunks', async () => {
    const expected: TextValue[][] = [];
    let text = '';
    for (let i = 0; i < 5000; i++) {
      const row = SAMPLE_ROWS[i % SAMPLE_ROWS.length]!;
      expected.push([String(i), ...row.slice(1)]);
      text += `${[String(i), ...row.slice(1)].map(copyTextField).join('\t')}\n`;
    }
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 997) chunks.push(bytes.subarray(at, at + 997));
    const rows: TextValue[][] = [];
    for await (const batch of parseCopyText(asStream(chunks), 777)) rows.push(...batch);
    expect(rows).toEqual(expected);
  });
});
