import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCopyText } from '../../core/copy/copy-text-format.js';
import { decodeParquetToCopyText, readParquetRowCount } from '../../core/parquet/parquet-decoder.js';
import { encodeParquet } from '../../core/parquet/parquet-encoder.js';
import type { CodecColumn } from '../../core/parquet/pg-arrow-types.js';
import { quoteIdent } from '../../core/schema/schema-model.js';
import { SESSION_SETTINGS } from '../../core/source/source.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { exportAndImport, type RoundTrip } from '../support/export-and-import.js';

const SCHEMA_SQL = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
  CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
  CREATE TABLE source_types (
    id integer PRIMARY KEY,
    c_int2 smallint,
    c_int4 integer,
    c_int8 bigint,
    c_numeric numeric,
    c_real real,
    c_double double precision,
    c_text text,
    c_varchar varchar(12),
    c_char char(5),
    c_bool boolean,
    c_date date,
    c_timestamp timestamp,
    c_timestamptz timestamptz,
    c_time time,
    c_interval interval,
    c_uuid uuid,
    c_json json,
    c_jsonb jsonb,
    c_bytea bytea,
    c_inet inet,
    c_cidr cidr,
    c_int_array integer[],
    c_text_2d text[][],
    c_mood mood,
    c_positive positive_int,
    c_email email,
    c_tsvector tsvector
  );
  CREATE TABLE target_types (LIKE source_types INCLUDING ALL);
`;

// Written under the server's defaults, before any session setting, so the values do not depend
// on the settings under test.
const ROWS_SQL = `
  INSERT INTO source_types VALUES
  (1, 12, 123456, 9007199254740993, 12345.678900, 1.5, 0.1,
   'plain', 'varchar', 'ab', true, '2020-01-02', '2020-01-02 03:04:05.123456',
   '2020-06-15 12:34:56.789012+02', '23:59:59.999999', '1 year 2 mons 3 days 04:05:06.789',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1,  "a": [1, 2]}', '{"b": 1, "a": [1, 2]}',
   '\\x00ff5c0a09', '192.168.0.1/24', '10.0.0.0/8', '{1,NULL,3}', '{{a,"b c"},{NULL,"d\\"e"}}',
   'happy', 42, 'a@example.com', 'a fat cat sat'),
  (2, 32767, 2147483647, 9223372036854775807,
   '12345678901234567890123456789012345678901234567890.12345678901234567890',
   '3.4028235e+38', '1.7976931348623157e+308',
   E'tab\\there\\nnew line\\\\back\\rslash é 😀 中文', 'twelve chars', 'abcde', false,
   '5874897-12-31', '275760-09-13 00:00:00.000001', '12345-06-07 08:09:10.11+00', '24:00:00',
   '-1 days +01:00:00.000001', '00000000-0000-0000-0000-000000000000', '[]', '{}', '\\x', '::1',
   '2001:db8::/32', '[0:1]={7,8}', '{{"\\\\N","NULL"},{"",x}}', 'sad', 1, 'x@y', 'fat:2A rat:1'),
  (3, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', 'NaN',
   '', '', '', true, '4713-01-01 BC', '4713-01-01 00:00:00 BC', '0044-03-15 12:00:00+00 BC',
   '00:00:00', '0', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', 'null', '\\x00', '0.0.0.0',
   '0.0.0.0/0', '{}', '{}', 'ok', 2147483647, '@', ''),
  (4, 0, 0, -9007199254740993, 'Infinity', 'Infinity', '-Infinity',
   ' ', ' ', ' ', false, 'infinity', 'infinity', '-infinity', '12:00:00', '-178000000 years',
   NULL, '"\\\\u0000"', '"x\\ty"', NULL, NULL, NULL, '{NULL}', '{{NULL}}', NULL, NULL, NULL, NULL),
  (5, NULL, NULL, 0, '-Infinity', '-0', '-0',
   NULL, NULL, NULL, NULL, '-infinity', '-infinity', 'infinity', NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (6, NULL, NULL, NULL, '-0.000000000000000000000000000001', '1e-45', '5e-324',
   NULL, NULL, NULL, NULL, '2000-02-29', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001+00',
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`;

// The column description export gets from the catalog: the type after resolving domains.
const COLUMNS_SQL = `
  SELECT a.attname AS name,
         format_type(a.atttypid, a.atttypmod) AS "dataType",
         base.typname AS "baseType",
         base.typcategory = 'A' AS "isArray"
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type base ON base.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  WHERE a.attrelid = 'source_types'::regclass AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum
`;

async function applySessionSettings(client: pg.Client): Promise<void> {
  for (const [name, value] of Object.entries(SESSION_SETTINGS)) {
    await client.query('SELECT set_config($1, $2, false)', [name, value]);
  }
}

async function rowsAsText(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t ORDER BY id`);
  return rows.map((row) => row.row);
}

/** Exact bits of the floats and timestamps, so -0, NaN and microseconds cannot hide in text. */
async function exactBits(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ bits: string }>(
    `SELECT concat_ws(' ', id, float4send(c_real), float8send(c_double), timestamp_send(c_timestamp),
              timestamptz_send(c_timestamptz), date_send(c_date), int8send(c_int8)) AS bits
     FROM ${table} ORDER BY id`,
  );
  return rows.map((row) => row.bits);
}

describe('every PostgreSQL type survives COPY → Parquet → COPY', () => {
  let db: TestDatabase;
  let directory: string;
  let columns: CodecColumn[];
  let file: string;

  beforeAll(async () => {
    db = await createTestDatabase('codec');
    directory = await mkdtemp(join(tmpdir(), 'devsnap-types-'));
    await db.client.query(SCHEMA_SQL);
    await db.client.query(ROWS_SQL);
    columns = (await db.client.query<CodecColumn>(COLUMNS_SQL)).rows;

    // Export: the text output of each value under SESSION_SETTINGS, encoded to Parquet.
    await applySessionSettings(db.client);
    const list = columns.map((column) => quoteIdent(column.name)).join(', ');
    const copyOut = db.client.query(copyTo(`COPY (SELECT ${list} FROM source_types ORDER BY id) TO STDOUT`));
    const parts: Uint8Array[] = [];
    for await (const part of encodeParquet(columns, parseCopyText(copyOut, 2), { rowGroupRows: 4 })) {
      parts.push(part);
    }
    file = join(directory, 'source_types.parquet');
    await writeFile(file, Buffer.concat(parts));
  });

  afterAll(async () => {
    await db?.drop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  async function importInto(client: pg.Client): Promise<void> {
    const list = columns.map((column) => quoteIdent(column.name)).join(', ');
    await client.query('TRUNCATE target_types');
    await pipeline(
      decodeParquetToCopyText(file, columns, { batchRows: 4 }),
      client.query(copyFrom(`COPY target_types (${list}) FROM STDIN`)),
    );
  }

  it('classifies the columns as the export does (domains resolved, arrays and enums as text)', () => {
    const byName = Object.fromEntries(columns.map((column) => [column.name, column.baseType]));
    expect(byName.c_positive).toBe('int4');
    expect(byName.c_email).toBe('text');
    expect(byName.c_mood).toBe('mood');
    expect(columns.find((column) => column.name === 'c_text_2d')).toMatchObject({
      baseType: '_text',
      isArray: true,
    });
  });

  it('restores every row exactly', async () => {
    expect(await readParquetRowCount(file)).toBe(6);
    await importInto(db.client);
    const source = await rowsAsText(db.client, 'source_types');
    expect(source).toHaveLength(6);
    expect(await rowsAsText(db.client, 'target_types')).toEqual(source);
    expect(await exactBits(db.client, 'target_types')).toEqual(await exactBits(db.client, 'source_types'));
  });

  it('keeps NULL and empty string apart', async () => {
    await importInto(db.client);
    const { rows } = await db.client.query<{ id: number; empty: boolean | null }>(
      `SELECT id, c_text = '' AS empty FROM target_types WHERE id IN (3, 5) ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 3, empty: true },
      { id: 5, empty: null },
    ]);
  });

  it('restores identical values in a session that starts with other TimeZone and DateStyle', async () => {
    const other = new pg.Client({
      connectionString: db.url,
      options: '-c TimeZone=Pacific/Chatham -c DateStyle=SQL,DMY -c IntervalStyle=sql_standard',
    });
    await other.connect();
    try {
      const { rows } = await other.query<{ zone: string }>('SELECT current_setting($1) AS zone', [
        'TimeZone',
      ]);
      expect(rows[0]?.zone).toBe('Pacific/Chatham');
      await applySessionSettings(other);
      await importInto(other);
    } finally {
      await other.end();
    }
    expect(await rowsAsText(db.client, 'target_types')).toEqual(await rowsAsText(db.client, 'source_types'));
    expect(await exactBits(db.client, 'target_types')).toEqual(await exactBits(db.client, 'source_types'));
  });
});

describe('every PostgreSQL type survives devsnap export → import', () => {
  let source: TestDatabase;
  let roundTrip: RoundTrip;
  let target: pg.Client;

  beforeAll(async () => {
    source = await createTestDatabase('types_export');
    await source.client.query(SCHEMA_SQL);
    await source.client.query(ROWS_SQL);
    // The values are fixtures, not personal data: this checks fidelity, not anonymisation.
    roundTrip = await exportAndImport(source, {
      config: { anonymise: { mode: 'warn' } },
      targetPrefix: 'types_import',
    });
    target = roundTrip.target.client;
  });
  afterAll(async () => {
    await roundTrip?.remove();
    await source.drop();
  });

  it('restores every row and every float, timestamp and int8 bit for bit', async () => {
    expect(await rowsAsText(target, 'source_types')).toEqual(await rowsAsText(source.client, 'source_types'));
    expect(await exactBits(target, 'source_types')).toEqual(await exactBits(source.client, 'source_types'));
  });
});
