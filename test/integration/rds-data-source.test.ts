import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseError, ReadOnlyViolationError } from '../../core/errors.js';
import type { ProgressEvent } from '../../core/progress.js';
import { PgSource } from '../../core/source/pg-source.js';
import type { RdsDataSource } from '../../core/source/rds-data-source.js';
import type { TextValue } from '../../core/source/source.js';
import { connectDataApi, loadTypeRichTables, sortedRows } from '../support/data-api-fixture.js';
import { type DataApiServer, startDataApiServer } from '../support/data-api-server.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/databases.js';

const RICH =
  'SELECT "id", "c_int8", "c_numeric", "c_float", "c_real", "c_tstz", "c_ts", "c_date", "c_interval", "c_bytea", "c_int_array", "c_text_2d", "c_json", "c_jsonb", "c_inet", "c_bool", "c_char", "c_mood", "c_uuid", "c_text", "c_big_bytea" FROM ONLY "public"."rich"';
const KEYLESS = 'SELECT "n", "t" FROM ONLY "public"."keyless"';

let db: TestDatabase;
let pgRows: Record<string, TextValue[][]>;

beforeAll(async () => {
  db = await createTestDatabase('rds_src');
  await loadTypeRichTables(db.client);
  // The reference: what PgSource reads with COPY.
  const pgSource = await PgSource.connect(db.url);
  try {
    pgRows = { rich: await sortedRows(pgSource, RICH), keyless: await sortedRows(pgSource, KEYLESS) };
  } finally {
    await pgSource.close();
  }
});
afterAll(async () => {
  await db?.drop();
});

describe('RdsDataSource against the Data API limits (real AWS numbers)', () => {
  let api: DataApiServer;
  const sources: RdsDataSource[] = [];
  beforeAll(async () => {
    api = await startDataApiServer({ postgresUrl: serverUrl('postgres') });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.close()));
  });
  afterAll(async () => {
    await api?.stop();
  });
  const open = async (overrides: Parameters<typeof connectDataApi>[2] = {}) => {
    const source = await connectDataApi(api, db.name, overrides);
    sources.push(source);
    return source;
  };

  it('reads every value exactly as PgSource does, in key order, with values over 64 KB read in slices', async () => {
    const source = await open();
    expect(source.serverVersion).toMatch(/^15\./);
    const before = api.calls.length;
    const rows = await sortedRows(source, RICH);
    expect(rows).toHaveLength(1400);
    expect(rows).toEqual(pgRows.rich);
    const first = rows.find((row) => row[0] === '1')!;
    expect(first.slice(0, 6)).toEqual([
      '1',
      '9007199254740993',
      '12345678901234567890.123456789012345678901234567890',
      '0.1',
      '1.5',
      '2020-06-15 10:34:56.789012+00',
    ]);
    expect(first[19]).toBe('é😀 '.repeat(30000));
    expect(first[20]).toBe(`\\x${'00ff'.repeat(40000)}`);
    // No call was refused: pages were sized to fit, long values fetched apart from their rows.
    expect(api.calls.slice(before).filter((call) => call.error)).toEqual([]);
  });

  it('pages a table without a key by row position (ctid), duplicates included', async () => {
    const source = await open();
    expect(await sortedRows(source, KEYLESS)).toEqual(pgRows.keyless);
  });

  it('reads the shapes subsetting sends for a keyless table: aliased, by ctid batch, with a LIMIT', async () => {
    const source = await open();
    const { rows: picked } = await db.client.query<{ ctid: string; n: string; t: string }>(
      'SELECT ctid::text, n::text, t FROM keyless ORDER BY ctid LIMIT 3 OFFSET 100',
    );
    const byCtid: TextValue[][] = [];
    for await (const batch of source.streamRows(
      'SELECT t."n", t."t" FROM ONLY "public"."keyless" t WHERE t.ctid = ANY($1::tid[])',
      {
        params: [`{${picked.map((row) => `"${row.ctid}"`).join(',')}}`],
      },
    )) {
      byCtid.push(...batch);
    }
    expect(byCtid).toEqual(picked.map((row) => [row.n, row.t]));
    const sample = await sortedRows(source, 'SELECT "n", t FROM ONLY "public"."keyless" LIMIT 200');
    expect(sample).toHaveLength(200);
    const all = new Set(pgRows.keyless?.map((row) => JSON.stringify(row)));
    expect(sample.every((row) => all.has(JSON.stringify(row)))).toBe(true);
    await expect(sortedRows(source, 'SELECT n, count(*) FROM keyless GROUP BY n')).rejects.toThrow(
      /^Cannot page this read through the RDS Data API: keyless has no primary key/,
    );
  });

  it('hits the 1 MiB response limit, halves the page and still reads every row once', async () => {
    // Pages aimed at 4 MiB: the first large one is refused by the API and must shrink.
    const source = await open({ paging: { targetPageBytes: 4 * 1024 * 1024, maxPageRows: 5000 } });
    const before = api.calls.length;
    expect(await sortedRows(source, RICH)).toEqual(pgRows.rich);
    const refused = api.calls.slice(before).filter((call) => call.error);
    expect(refused.length).toBeGreaterThan(0);
    expect(
      refused.every((call) => call.message === 'Database returned more than the allowed response size limit'),
    ).toBe(true);
    expect(Math.max(...api.calls.slice(before).map((call) => call.responseBytes ?? 0))).toBeLessThanOrEqual(
      1024 * 1024,
    );
  });

  it('hits the 64 KB row limit, returns less of each row inline and still reads every value', async () => {
    const source = await open({ paging: { rowBudgetBytes: 8 * 1024 * 1024 } });
    const before = api.calls.length;
    expect(await sortedRows(source, RICH)).toEqual(pgRows.rich);
    const refused = api.calls.slice(before).filter((call) => call.error);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((call) => call.message?.startsWith('Packet for query is too large'))).toBe(true);
  });

  it('decodes typed fields for catalog-style queries like node-postgres does', async () => {
    const source = await open();
    const pgSource = await PgSource.connect(db.url);
    const sql = `SELECT 9007199254740993::int8 AS big, 42::int4 AS small, 2.5::float8 AS float, true AS yes,
      12.3450::numeric AS exact, '\\x01ff'::bytea AS bytes, ARRAY[1, NULL, 3]::int4[] AS ints,
      ARRAY['a', NULL]::text[] AS texts, '{"a": [1]}'::jsonb AS doc, $1::text AS param, $2::int8 AS number,
      NULL::text AS nothing`;
    try {
      const expected = await pgSource.query(sql, ['p', 7]);
      expect(await source.query(sql, ['p', 7])).toEqual(expected);
      expect(expected[0]).toMatchObject({
        big: '9007199254740993',
        bytes: Buffer.from([1, 255]),
        ints: [1, null, 3],
      });
    } finally {
      await pgSource.close();
    }
    await expect(source.query("SELECT interval '1 day' AS i")).rejects.toThrow(
      'The Data API cannot return a column of this read: The result contains the unsupported data type interval.',
    );
  });

  it('reads one consistent snapshot: rows committed after it began are not seen', async () => {
    const source = await open();
    const count = async () => (await source.query<{ n: string }>('SELECT count(*) AS n FROM keyless'))[0]?.n;
    expect(await count()).toBe('3000');
    await db.client.query(`INSERT INTO keyless VALUES (1, 'late')`);
    try {
      expect(await count()).toBe('3000');
      expect(await sortedRows(source, KEYLESS)).toEqual(pgRows.keyless);
    } finally {
      await db.client.query(`DELETE FROM keyless WHERE t = 'late'`);
    }
  });

  it('refuses writes, and reads that call a function of the database, before they reach the API', async () => {
    const source = await open();
    const before = api.calls.length;
    await expect(source.query('DELETE FROM rich')).rejects.toThrow(ReadOnlyViolationError);
    const insert = source.streamRows('INSERT INTO keyless VALUES (1, $1) RETURNING *', { params: ['x'] });
    await expect(insert[Symbol.asyncIterator]().next()).rejects.toThrow(ReadOnlyViolationError);
    expect(api.calls.length).toBe(before);
    await db.client.query(
      `CREATE OR REPLACE FUNCTION sneaky() RETURNS int LANGUAGE sql AS $$ INSERT INTO keyless VALUES (0, 'sneaky') RETURNING 1 $$`,
    );
    // Looks like a read; the guard asks the catalog (through the API) and refuses the call.
    await expect(source.query('SELECT "sneaky"()')).rejects.toThrow(
      /refused a statement: it calls sneaky\(\)/,
    );
    expect((await db.client.query(`SELECT count(*)::int AS n FROM keyless WHERE t = 'sneaky'`)).rows).toEqual(
      [{ n: 0 }],
    );
  });

  it('streams a read with parameters (a key batch as one text value cast to an array)', async () => {
    const source = await open();
    const rows: TextValue[][] = [];
    for await (const batch of source.streamRows(`${RICH} WHERE "id" = ANY($1::int8[])`, {
      params: ['{1,3,1000}'],
    })) {
      rows.push(...batch);
    }
    expect(rows.map((row) => row[0])).toEqual(['1', '3', '1000']);
    expect(rows).toEqual(
      (pgRows.rich ?? [])
        .filter((row) => ['1', '3', '1000'].includes(row[0] ?? ''))
        .sort((a, b) => Number(a[0]) - Number(b[0])),
    );
  });

  it('waits with backoff for a resuming cluster, at the start and in the middle of a read', async () => {
    const notices: ProgressEvent[] = [];
    api.pauseCluster(600);
    const source = await open({
      reporter: { report: (event) => notices.push(event) },
      retry: { attempts: 12, baseDelayMs: 50, maxDelayMs: 200 },
    });
    expect(
      notices.some((n) => n.type === 'notice' && n.message.startsWith('The Aurora cluster is resuming')),
    ).toBe(true);
    api.inject({
      type: 'DatabaseResumingException',
      times: 3,
      when: (call) => /LIMIT \d+\) AS p/.test(call.sql ?? ''),
    });
    api.inject({ type: 'ThrottlingException', times: 2 });
    expect(await sortedRows(source, RICH)).toEqual(pgRows.rich);
    expect(api.calls.filter((call) => call.error === 'DatabaseResumingException').length).toBeGreaterThan(3);
    expect(api.calls.filter((call) => call.error === 'ThrottlingException').length).toBe(2);
  });

  it('makes one call at a time on its transaction, which the API requires', async () => {
    const source = await open();
    const results = await Promise.all([
      source.query<{ v: number }>('SELECT 1 AS v, pg_sleep(0.2)::text'),
      source.query<{ v: number }>('SELECT 2 AS v'),
    ]);
    expect(results.map((rows) => rows[0]?.v)).toEqual([1, 2]);

    // What happens without that: the API refuses the second call.
    const client = new RDSDataClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const arns = { resourceArn: api.resourceArn, secretArn: api.secretArn };
    const { transactionId } = await client.send(new BeginTransactionCommand({ ...arns, database: db.name }));
    const slow = client.send(
      new ExecuteStatementCommand({ ...arns, transactionId, sql: 'SELECT pg_sleep(0.3)::text' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(
      client.send(new ExecuteStatementCommand({ ...arns, transactionId, sql: 'SELECT 1' })),
    ).rejects.toThrow('Transaction is still running a query');
    await slow;
    await client.send(new RollbackTransactionCommand({ ...arns, transactionId }));
    client.destroy();
  });
});

describe('RdsDataSource with short limits (idle timeout, call timeout, a cluster that stays paused)', () => {
  let api: DataApiServer;
  beforeAll(async () => {
    // The same limits as AWS's, in milliseconds instead of minutes, so tests reach them quickly.
    api = await startDataApiServer({
      postgresUrl: serverUrl('postgres'),
      transactionIdleMs: 1000,
      callTimeoutMs: 500,
    });
  });
  afterAll(async () => {
    await api?.stop();
  });

  async function readSlowly(source: RdsDataSource, pauseMs: number): Promise<TextValue[][]> {
    const rows: TextValue[][] = [];
    let pauses = 0;
    for await (const batch of source.streamRows(RICH, { batchRows: 500 })) {
      rows.push(...batch);
      // A consumer busy elsewhere (encoding, uploading) makes no call for a while.
      if (pauses++ < 2) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return rows.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }

  it('keeps its transaction alive through pauses longer than the idle limit', async () => {
    const source = await connectDataApi(api, db.name, { keepAliveMs: 200 });
    try {
      expect(await readSlowly(source, 1600)).toEqual(pgRows.rich);
      expect(api.calls.filter((call) => call.sql === 'SELECT 1').length).toBeGreaterThan(2);
    } finally {
      await source.close();
    }
  });

  it('reports an expired transaction clearly when nothing kept it alive', async () => {
    const source = await connectDataApi(api, db.name, { keepAliveMs: 0 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1600));
      const error = await source.query('SELECT 1 AS one').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).message).toMatch(
        /^The Data API transaction of this export on arn:aws:rds:.* has ended: it expired after 3 minutes without a call/,
      );
    } finally {
      await source.close();
    }
    expect(api.openTransactions()).toBe(0);
  });

  it('reports a call cancelled at the per-call time limit', async () => {
    const source = await connectDataApi(api, db.name);
    try {
      await expect(source.query('SELECT pg_sleep(2)::text AS slept')).rejects.toThrow(
        /ran longer than the Data API allows one call \(45 s\) and was cancelled/,
      );
      expect(api.calls.at(-1)).toMatchObject({ error: 'StatementTimeoutException' });
    } finally {
      await source.close();
    }
  });

  it('gives up on a cluster that stays paused, naming it', async () => {
    api.pauseCluster(5_000);
    try {
      await expect(connectDataApi(api, db.name, { retry: { attempts: 3, baseDelayMs: 10 } })).rejects.toThrow(
        `The Aurora cluster ${api.resourceArn} is still resuming; gave up waiting.`,
      );
    } finally {
      api.pauseCluster(0);
    }
  });
});
