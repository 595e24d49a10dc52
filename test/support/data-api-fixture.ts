import type pg from 'pg';
import { RdsDataSource, type RdsDataSourceOptions } from '../../core/source/rds-data-source.js';
import type { Source, TextValue } from '../../core/source/source.js';
import type { DataApiServer } from './data-api-server.js';

/**
 * Tables whose values the Data API cannot return as typed fields, or returns inexactly: int8 past
 * 2^53, numeric beyond a double, timestamptz with microseconds, bytea, arrays with NULLs, json and
 * jsonb, interval and inet (refused by the API), values far over the 64 KB row limit, and a
 * table without any key. `rich` holds about 1.5 MB, more than one 1 MiB response.
 */
export const TYPE_RICH_SQL = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TABLE rich (
    id bigint PRIMARY KEY,
    c_int8 bigint, c_numeric numeric, c_float float8, c_real real,
    c_tstz timestamptz, c_ts timestamp, c_date date, c_interval interval,
    c_bytea bytea, c_int_array integer[], c_text_2d text[][], c_json json, c_jsonb jsonb,
    c_inet inet, c_bool boolean, c_char char(5), c_mood mood, c_uuid uuid,
    c_text text, c_big_bytea bytea
  );
  INSERT INTO rich VALUES
  (1, 9007199254740993, 12345678901234567890.123456789012345678901234567890, 0.1, 1.5,
   '2020-06-15 12:34:56.789012+02', '2020-01-02 03:04:05.123456', 'infinity', '1 year 2 mons 3 days 04:05:06.789',
   '\\x00ff5c0a09', '{1,NULL,3}', '{{a,"b c"},{NULL,"d\\"e"}}', '{"b": 1,  "a": [1, 2]}', '{"b": 1, "a": [1, 2]}',
   '192.168.0.1/24', true, 'ab', 'happy', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   repeat('é😀 ', 30000), decode(repeat('00ff', 40000), 'hex')),
  (2, -9223372036854775808, 'NaN', 'NaN', '-0', '-infinity', '4713-01-01 00:00:00 BC', '-infinity', '-178000000 years',
   '\\x', '{}', '{}', 'null', '[]', '::1', false, ' ', 'sad', NULL, E'tab\\there\\nnew line\\\\back\\rslash', NULL),
  (3, 9223372036854775807, '-0.000000000000000000000000000001', '-Infinity', '3.4028235e+38',
   '1970-01-01 00:00:00.000001+00', '275760-09-13 00:00:00.000001', '2000-02-29', '0',
   NULL, '{NULL}', '{{NULL}}', '"\\\\u0000"', '"x\\ty"', NULL, NULL, NULL, NULL, NULL, '', '\\x00');
  INSERT INTO rich
  SELECT g, g * 1000000000007, g / 7.0, g / 3.0, g / 9.0,
    timestamptz '2024-01-01 00:00:00+00' + g * interval '1.000001 second', NULL, date '2024-01-01' + g,
    g * interval '1 minute', pg_catalog.sha256(g::text::bytea), ARRAY[g, NULL, -g], ARRAY[ARRAY[g::text, NULL]],
    json_build_object('g', g), jsonb_build_object('g', g, 'h', ARRAY[g]), ('10.0.' || (g % 256) || '.1')::inet,
    g % 2 = 0, left(g::text, 5), (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::mood, NULL,
    repeat(md5(g::text), 34), NULL
  FROM generate_series(4, 1400) AS g;
  CREATE TABLE keyless (n integer, t text);
  INSERT INTO keyless SELECT g % 100, repeat('x', g % 50) FROM generate_series(1, 3000) AS g;
`;

export async function loadTypeRichTables(client: pg.Client): Promise<void> {
  await client.query(TYPE_RICH_SQL);
}

/** Options for an RdsDataSource on the test server, with quick retries. */
export function dataApiOptions(
  api: DataApiServer,
  database: string,
  overrides: Partial<RdsDataSourceOptions> = {},
): RdsDataSourceOptions {
  return {
    resourceArn: api.resourceArn,
    secretArn: api.secretArn,
    database,
    endpoint: api.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    ...overrides,
  };
}

export function connectDataApi(
  api: DataApiServer,
  database: string,
  overrides: Partial<RdsDataSourceOptions> = {},
): Promise<RdsDataSource> {
  return RdsDataSource.connect(dataApiOptions(api, database, overrides));
}

/** Every row of a read, in a fixed order (sources order rows differently). */
export async function sortedRows(source: Source, select: string): Promise<TextValue[][]> {
  const rows: TextValue[][] = [];
  for await (const batch of source.streamRows(select)) rows.push(...batch);
  return rows.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}
