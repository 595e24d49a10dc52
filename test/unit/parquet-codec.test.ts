import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParquetFile } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTextField } from '../../core/copy/copy-text-format.js';
import { DevsnapError, SnapshotIntegrityError } from '../../core/errors.js';
import { decodeParquetToCopyText, readParquetRowCount } from '../../core/parquet/parquet-decoder.js';
import { encodeParquet } from '../../core/parquet/parquet-encoder.js';
import { ParquetFileReader } from '../../core/parquet/parquet-file-reader.js';
import {
  arrowTypeName,
  type CodecColumn,
  PG_TYPE_METADATA_KEY,
  parseFloat4Text,
} from '../../core/parquet/pg-arrow-types.js';
import type { TextValue } from '../../core/source/source.js';

let directory: string;
let fileCounter = 0;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'devsnap-codec-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function column(name: string, dataType: string, baseType: string, isArray = false): CodecColumn {
  return { name, dataType, baseType, isArray };
}

async function* inBatches(rows: TextValue[][], size = 1000): AsyncGenerator<TextValue[][]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** Where encodeParquet runs parquet-wasm in the tests under way: its worker thread, or this one. */
let thread: 'worker' | 'same' = 'worker';

async function writeParquet(
  columns: readonly CodecColumn[],
  rows: TextValue[][],
  options: { rowGroupRows?: number } = {},
): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const part of encodeParquet(columns, inBatches(rows), { ...options, thread })) parts.push(part);
  const file = join(directory, `part-${fileCounter++}.parquet`);
  await writeFile(file, Buffer.concat(parts));
  return file;
}

async function readCopyText(
  file: string,
  columns: readonly Pick<CodecColumn, 'name'>[],
  batchRows?: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of decodeParquetToCopyText(file, columns, { batchRows })) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** COPY text as PostgreSQL itself would accept it for these rows. */
function copyText(rows: TextValue[][]): string {
  return rows.map((row) => `${row.map(copyTextField).join('\t')}\n`).join('');
}

async function roundTrip(target: CodecColumn, values: TextValue[]): Promise<string[]> {
  const columns = [column('id', 'integer', 'int4'), target];
  const file = await writeParquet(
    columns,
    values.map((value, i) => [String(i), value]),
  );
  const text = await readCopyText(file, columns);
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => line.slice(line.indexOf('\t') + 1));
}

interface TypeCase {
  column: CodecColumn;
  values: TextValue[];
  /** COPY fields expected back when they differ from the input's own escaping. */
  expected?: string[];
}

const TYPE_CASES: Record<string, TypeCase> = {
  int2: { column: column('c', 'smallint', 'int2'), values: ['0', '-32768', '32767', null] },
  int4: { column: column('c', 'integer', 'int4'), values: ['0', '-2147483648', '2147483647', null] },
  int8: {
    column: column('c', 'bigint', 'int8'),
    values: [
      '9223372036854775807',
      '-9223372036854775807',
      '-9223372036854775808',
      '9007199254740993',
      '-9007199254740993',
      '4294967296',
      '-4294967297',
      '0',
      null,
    ],
  },
  float4: {
    column: column('c', 'real', 'float4'),
    values: [
      '1.5',
      '-0',
      '0',
      'NaN',
      'Infinity',
      '-Infinity',
      '0.1',
      '3.4028235e+38',
      '1e-45',
      '-123.456',
      null,
    ],
  },
  float8: {
    column: column('c', 'double precision', 'float8'),
    values: [
      '-0',
      '0',
      'NaN',
      'Infinity',
      '-Infinity',
      '0.1',
      '1.7976931348623157e+308',
      '5e-324',
      '-1234567.890123',
      null,
    ],
  },
  numeric: {
    column: column('c', 'numeric(50,10)', 'numeric'),
    values: [
      'NaN',
      'Infinity',
      '-Infinity',
      '1234567890123456789012345678901234567890.0123456789',
      '-0.0000000001',
      '0.10',
      null,
    ],
  },
  bool: { column: column('c', 'boolean', 'bool'), values: ['t', 'f', null] },
  date: {
    column: column('c', 'date', 'date'),
    values: [
      '2020-01-02',
      '1970-01-01',
      '1969-12-31',
      '2000-02-29',
      '1900-03-01',
      '0001-01-01',
      '0001-12-31 BC',
      '4713-01-01 BC',
      '5874897-12-31',
      '10000-01-01',
      'infinity',
      '-infinity',
      null,
    ],
  },
  timestamp: {
    column: column('c', 'timestamp without time zone', 'timestamp'),
    values: [
      '2020-01-02 03:04:05.123456',
      '2020-01-02 03:04:05.5',
      '1970-01-01 00:00:00',
      '1969-12-31 23:59:59.999999',
      '0001-01-01 00:00:00 BC',
      '4713-01-01 00:00:00 BC',
      '0044-03-15 12:30:00.000001 BC',
      '10000-01-01 00:00:00',
      '275760-09-13 00:00:00.000001',
      'infinity',
      '-infinity',
      null,
    ],
  },
  timestamptz: {
    column: column('c', 'timestamp with time zone', 'timestamptz'),
    values: [
      '2020-01-02 03:04:05.123456+00',
      '1969-12-31 23:59:59.999999+00',
      '0044-03-15 12:30:00+00 BC',
      '12345-06-07 08:09:10.11+00',
      '2020-01-02 03:04:05+02',
      '2020-01-02 03:04:05-05:30',
      'infinity',
      '-infinity',
      null,
    ],
    expected: [
      '2020-01-02 03:04:05.123456+00',
      '1969-12-31 23:59:59.999999+00',
      '0044-03-15 12:30:00+00 BC',
      '12345-06-07 08:09:10.11+00',
      '2020-01-02 01:04:05+00',
      '2020-01-02 08:34:05+00',
      'infinity',
      '-infinity',
      '\\N',
    ],
  },
  bytea: {
    column: column('c', 'bytea', 'bytea'),
    values: ['\\x', '\\x00', '\\x5c5c00ff0a09', '\\x5c4e', null],
  },
  text: {
    column: column('c', 'text', 'text'),
    values: [
      'plain',
      'tab\there',
      'line\nbreak',
      'cr\rhere',
      'back\\slash',
      'é 😀 中文',
      '',
      '\\N',
      ' padded ',
      null,
    ],
  },
  'character(5)': { column: column('c', 'character(5)', 'bpchar'), values: ['ab   ', '     ', null] },
  'int[] with NULL elements': {
    column: column('c', 'integer[]', '_int4', true),
    values: ['{1,NULL,3}', '{}', '{{1,2},{3,4}}', null],
  },
  'text[][]': {
    column: column('c', 'text[]', '_text', true),
    values: ['{{a,"b c"},{NULL,"d\\"e"}}', '{"back\\\\slash"}', null],
  },
  'an unknown type': {
    column: column('c', 'public.mood', 'mood'),
    values: ['happy', 'sad', null],
  },
  interval: {
    column: column('c', 'interval', 'interval'),
    values: ['1 year 2 mons 3 days 04:05:06.789', '-00:00:01', null],
  },
};

describe('the Parquet codec restores every type exactly', () => {
  for (const [name, { column: target, values, expected }] of Object.entries(TYPE_CASES)) {
    it(name, async () => {
      expect(await roundTrip(target, values)).toEqual(expected ?? values.map(copyTextField));
    });
  }

  it('writes bytea hex with its backslash escaped for COPY', async () => {
    expect(await roundTrip(column('c', 'bytea', 'bytea'), ['\\x00ff'])).toEqual(['\\\\x00ff']);
  });

  it('gives identical COPY text for NULL and empty string in every text-like column', async () => {
    const columns = [
      column('a', 'text', 'text'),
      column('b', 'bytea', 'bytea'),
      column('c', 'jsonb', 'jsonb'),
    ];
    const rows: TextValue[][] = [
      ['', '\\x', '""'],
      [null, null, null],
    ];
    expect(await readCopyText(await writeParquet(columns, rows), columns)).toBe(
      '\t\\\\x\t""\n\\N\t\\N\t\\N\n',
    );
  });
});

describe.each(['worker', 'same'] as const)('encodeParquet (parquet-wasm on the %s thread)', (where) => {
  beforeAll(() => {
    thread = where;
  });
  afterAll(() => {
    thread = 'worker';
  });
  const columns = [
    column('id', 'bigint', 'int8'),
    column('name', 'text', 'text'),
    column('at', 'date', 'date'),
  ];

  it('writes a valid file with the schema when there are no rows', async () => {
    const file = await writeParquet(columns, []);
    expect(await readParquetRowCount(file)).toBe(0);
    expect(await readCopyText(file, columns)).toBe('');
    await expect(readCopyText(file, [column('missing', 'text', 'text')])).rejects.toThrow(
      SnapshotIntegrityError,
    );
  });

  it('splits many rows into row groups and reads them back in order, in small batches', async () => {
    const rows: TextValue[][] = Array.from({ length: 2500 }, (_, i) => [
      String(i * 3_000_000_000),
      i % 7 === 0 ? null : `name ${i} é`,
      i % 11 === 0 ? null : '2024-02-29',
    ]);
    const file = await writeParquet(columns, rows, { rowGroupRows: 1000 });
    const parquet = await ParquetFile.fromFile(await openAsBlob(file));
    expect(parquet.metadata().numRowGroups()).toBe(3);
    expect(await readParquetRowCount(file)).toBe(2500);
    expect(await readCopyText(file, columns, 333)).toBe(copyText(rows));
  });

  it('records the Arrow types and the PostgreSQL type of each column in the file', async () => {
    const typed = [
      column('a', 'timestamp with time zone', 'timestamptz'),
      column('b', 'public.email', 'text'),
      column('c', 'integer[]', '_int4', true),
    ];
    const reader = await ParquetFileReader.open(await writeParquet(typed, [['infinity', 'x@y', '{1}']]));
    reader.close();
    expect(reader.schema.fields.map((field) => [field.name, String(field.type)])).toEqual([
      ['a', 'Timestamp<MICROSECOND, UTC>'],
      ['b', 'Utf8'],
      ['c', 'Utf8'],
    ]);
    expect(reader.schema.fields.map((field) => field.metadata.get(PG_TYPE_METADATA_KEY))).toEqual([
      'timestamp with time zone',
      'public.email',
      'integer[]',
    ]);
  });

  it('names the column and value that does not fit its type', async () => {
    const failure = writeParquet([column('n', 'integer', 'int4')], [['12'], ['twelve']]);
    await expect(failure).rejects.toThrow(DevsnapError);
    await expect(failure).rejects.toThrow(/Column n \(integer\).*"twelve"/);
  });

  it('refuses a row with the wrong number of values', async () => {
    await expect(writeParquet(columns, [['1', 'a']])).rejects.toThrow(/has 2 values, expected 3/);
  });

  it('passes on the error of the rows it reads, and closes them when its reader stops', async () => {
    const broken = new Error('connection lost');
    async function* failing(): AsyncGenerator<TextValue[][]> {
      yield [['1', 'a', null]];
      throw broken;
    }
    const parts: Uint8Array[] = [];
    await expect(
      (async () => {
        for await (const part of encodeParquet(columns, failing(), { thread })) parts.push(part);
      })(),
    ).rejects.toBe(broken);

    let closed = false;
    async function* endless(): AsyncGenerator<TextValue[][]> {
      try {
        for (let i = 0; ; i++)
          yield Array.from({ length: 1000 }, (_, j) => [String(i * 1000 + j), 'x', null]);
      } finally {
        closed = true;
      }
    }
    for await (const _part of encodeParquet(columns, endless(), { rowGroupRows: 5000, thread })) break;
    expect(closed).toBe(true);
  });

  it('refuses timestamps beyond the int64 microsecond range instead of wrapping them', async () => {
    const failure = writeParquet([column('t', 'timestamp', 'timestamp')], [['294276-12-31 23:59:59.999999']]);
    await expect(failure).rejects.toThrow(/beyond the microsecond range/);
  });
});

describe('parseFloat4Text', () => {
  // Decimals whose nearest double is exactly halfway between two float4s although they are not:
  // rounding the double again would pick the wrong float4.
  it('rounds as strtof does when the double lands on a float4 midpoint', () => {
    const justAbove = '1.000000059604644830901776231257827021181583404541015625';
    expect(Math.fround(+justAbove)).toBe(1);
    expect(parseFloat4Text(justAbove)).toBe(Math.fround(1 + 2 ** -23));
    expect(parseFloat4Text(`-${justAbove}`)).toBe(-Math.fround(1 + 2 ** -23));
    const justBelow = '1.000000178813934270660723768742172978818416595458984375';
    expect(Math.fround(+justBelow)).toBe(Math.fround(1 + 2 ** -22));
    expect(parseFloat4Text(justBelow)).toBe(Math.fround(1 + 2 ** -23));
    expect(parseFloat4Text('1.0000000596046447753906250')).toBe(1);
  });

  it('parses special values and ordinary ones like Math.fround', () => {
    expect(parseFloat4Text('NaN')).toBeNaN();
    expect(parseFloat4Text('-Infinity')).toBe(-Infinity);
    expect(Object.is(parseFloat4Text('-0'), -0)).toBe(true);
    expect(parseFloat4Text('0.1')).toBe(Math.fround(0.1));
    expect(parseFloat4Text('1e-45')).toBe(2 ** -149);
  });
});

describe('arrowTypeName', () => {
  it('names the Arrow type of each PostgreSQL base type for the manifest', () => {
    const names = Object.fromEntries(
      [
        'int2',
        'int4',
        'int8',
        'float4',
        'float8',
        'numeric',
        'bool',
        'date',
        'timestamp',
        'timestamptz',
        'bytea',
      ]
        .concat(['text', 'uuid', 'jsonb', 'interval', 'mood'])
        .map((baseType) => [baseType, arrowTypeName({ baseType, isArray: false })]),
    );
    expect(names).toEqual({
      int2: 'int16',
      int4: 'int32',
      int8: 'int64',
      float4: 'float32',
      float8: 'float64',
      numeric: 'utf8',
      bool: 'bool',
      date: 'date32',
      timestamp: 'timestamp[us]',
      timestamptz: 'timestamp[us, UTC]',
      bytea: 'binary',
      text: 'utf8',
      uuid: 'utf8',
      jsonb: 'utf8',
      interval: 'utf8',
      mood: 'utf8',
    });
    expect(arrowTypeName({ baseType: '_int4', isArray: true })).toBe('utf8');
  });
});

describe('decodeParquetToCopyText on damaged files', () => {
  const columns = [column('id', 'integer', 'int4'), column('note', 'text', 'text')];
  let good: string;
  let bytes: Buffer;

  beforeAll(async () => {
    const rows: TextValue[][] = Array.from({ length: 3000 }, (_, i) => [
      String(i),
      `note number ${i * 7919}`,
    ]);
    good = await writeParquet(columns, rows, { rowGroupRows: 1000 });
    bytes = await readFile(good);
  });

  async function damaged(name: string, content: Buffer): Promise<string> {
    const file = join(directory, name);
    await writeFile(file, content);
    return file;
  }

  async function expectIntegrityError(file: string): Promise<void> {
    const read = readCopyText(file, columns);
    await expect(read).rejects.toThrow(SnapshotIntegrityError);
    await expect(read).rejects.toThrow(file);
  }

  it('reports a truncated file', async () => {
    await expectIntegrityError(await damaged('truncated.parquet', bytes.subarray(0, bytes.length - 100)));
    await expectIntegrityError(await damaged('half.parquet', bytes.subarray(0, bytes.length >> 1)));
  });

  it('reports a file that is not Parquet, or empty', async () => {
    await expectIntegrityError(
      await damaged('garbage.parquet', Buffer.from('not parquet at all '.repeat(20))),
    );
    await expectIntegrityError(await damaged('empty.parquet', Buffer.alloc(0)));
  });

  it('reports damaged data pages (where the reader panics) and keeps working afterwards', async () => {
    const corrupt = Buffer.from(bytes);
    for (let i = 100; i < 400; i++) corrupt[i] = (corrupt[i]! * 31 + 7) & 0xff;
    await expectIntegrityError(await damaged('corrupt.parquet', corrupt));
    expect(await readParquetRowCount(good)).toBe(3000);
    expect((await readCopyText(good, columns)).split('\n')).toHaveLength(3001);
  });

  it('reports a missing file', async () => {
    await expect(readCopyText(join(directory, 'nowhere.parquet'), columns)).rejects.toThrow(/is missing/);
    await expect(readParquetRowCount(join(directory, 'nowhere.parquet'))).rejects.toThrow(
      SnapshotIntegrityError,
    );
  });

  it('names the file and the column a file lacks', async () => {
    const read = readCopyText(good, [column('id', 'integer', 'int4'), column('email', 'text', 'text')]);
    await expect(read).rejects.toThrow(SnapshotIntegrityError);
    await expect(read).rejects.toThrow(`Parquet file ${good} has no column email`);
  });

  it('stops cleanly when the consumer stops early', async () => {
    for await (const chunk of decodeParquetToCopyText(good, columns, { batchRows: 100 })) {
      expect(chunk.toString()).toMatch(/^0\tnote number 0\n/);
      break;
    }
    expect(await readParquetRowCount(good)).toBe(3000);
  });
});
