import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { beginExport, planParts } from '../../core/export/begin-export.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { exportTables } from '../../core/export/export-tables.js';
import { failureKey, finalizeExport } from '../../core/export/finalize-export.js';
import { LATEST_KEY, manifestKey } from '../../core/manifest.js';
import { PgSource } from '../../core/source/pg-source.js';
import { KeySet } from '../../core/subset/key-set.js';
import { fake, hash, randomSample, scrub } from '../../strategies/index.js';
import { runDevsnap } from '../support/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';
import { readManifest, snapshotRows } from '../support/snapshot-values.js';

const config = { anonymise: { mode: 'warn' as const } };

describe('the export in steps (plan, tables, finalize), as the state machine runs it', () => {
  let db: TestDatabase;
  let store: TemporaryStore;

  beforeAll(async () => {
    db = await createShopDatabase('staged_export');
    store = await temporaryStore();
  });
  afterAll(async () => {
    await store?.remove();
    await db?.drop();
  });

  /** One step of the run, in its own connection. */
  const step = <T>(run: (source: PgSource) => Promise<T>): Promise<T> =>
    withSource(() => PgSource.connect(db.url), run);

  it('publishes nothing when a table never reported, and says which', async () => {
    const { plan, digestKey } = await step((source) => beginExport({ source, store, config }));
    const [lastTable] = plan.tables.slice(-1);
    await step((source) =>
      exportTables({
        source,
        store,
        config,
        snapshotId: plan.snapshotId,
        parts: planParts(plan, plan.tables.slice(0, -1)),
        digestKey,
      }),
    );
    const result = await finalizeExport({ store, snapshotId: plan.snapshotId });
    expect(result).toMatchObject({
      status: 'failed',
      failures: [
        { table: '(finalize)', error: expect.stringContaining(`No export result for ${lastTable}`) },
      ],
    });
    expect(await store.readText(LATEST_KEY)).toBeNull();
    expect(await store.list(`snapshots/${plan.snapshotId}/`)).toEqual([failureKey(plan.snapshotId)]);
  });

  it('refuses a worker whose config differs from the plan, naming its tables', async () => {
    const { plan, digestKey } = await step((source) => beginExport({ source, store, config }));
    const changed = { ...config, tables: { 'public.orders': [] } };
    await expect(
      step((source) =>
        exportTables({
          source,
          store,
          config: changed,
          snapshotId: plan.snapshotId,
          parts: [{ table: 'public.users', part: 0 }],
          digestKey,
        }),
      ),
    ).rejects.toThrow(/The config changed during export/);
    const result = await finalizeExport({ store, snapshotId: plan.snapshotId });
    expect(result).toMatchObject({
      status: 'failed',
      failures: [{ table: 'public.users', error: expect.stringContaining('The config changed') }],
    });
  });

  it('publishes when every table reported, in the plan order, and applies retention', async () => {
    const { plan, digestKey } = await step((source) => beginExport({ source, store, config }));
    // Levels in reverse and tables one by one: the order workers finish in does not matter.
    for (const level of [...plan.levels].reverse()) {
      await step((source) =>
        exportTables({
          source,
          store,
          config,
          snapshotId: plan.snapshotId,
          parts: planParts(plan, level),
          digestKey,
        }),
      );
    }
    const result = await finalizeExport({ store, snapshotId: plan.snapshotId, retention: { keepNewest: 1 } });
    expect(result).toMatchObject({ status: 'published', latestMoved: true, totalRows: 2951 });
    const manifest = JSON.parse((await store.readText(manifestKey(plan.snapshotId))) ?? '');
    expect(manifest.tables.map((t: { schema: string; name: string }) => `${t.schema}.${t.name}`)).toEqual(
      plan.tables,
    );
    expect(JSON.parse((await store.readText(LATEST_KEY)) ?? '').snapshotId).toBe(plan.snapshotId);
    expect(await store.list(`snapshots/${plan.snapshotId}/.work/`)).toEqual([]);
  });
});

describe('a distributed export: table parts and the stored selection', () => {
  const SECRET = 'parts-test-secret-5d1c7a90b3e24f68';
  const env = { DEVSNAP_SECRET: SECRET };
  let shop: TestDatabase;
  let people: TestDatabase;
  let store: TemporaryStore;

  beforeAll(async () => {
    shop = await createShopDatabase('export_parts');
    people = await createTestDatabase('export_digests');
    await people.client.query(`
      CREATE TABLE public.people (email text PRIMARY KEY, name text NOT NULL);
      CREATE TABLE public.visits (id int PRIMARY KEY, person_email text NOT NULL REFERENCES public.people (email), day date);
      INSERT INTO public.people SELECT 'person' || g || '@example.org', 'Name' || g FROM generate_series(1, 30) g;
      INSERT INTO public.visits SELECT g, 'person' || (g % 30 + 1) || '@example.org', DATE '2026-01-01' + g FROM generate_series(1, 90) g;
    `);
    store = await temporaryStore();
  });
  afterAll(async () => {
    await store?.remove();
    await shop?.drop();
    await people?.drop();
  });

  /** Plan, then every part in its own connection in reverse order, then finalize. */
  async function exportInParts(db: TestDatabase, config: DevsnapConfig, partRows?: number) {
    const connect = () => PgSource.connect(db.url);
    const begun = await withSource(connect, (source) =>
      beginExport({ source, store, config, env, partRows }),
    );
    const { plan, digestKey } = begun;
    for (const part of planParts(plan).reverse()) {
      await withSource(connect, (source) =>
        exportTables({ source, store, config, env, snapshotId: plan.snapshotId, parts: [part], digestKey }),
      );
    }
    const result = await finalizeExport({ store, snapshotId: plan.snapshotId });
    expect(result.status).toBe('published');
    return plan;
  }

  const byId = (rows: Record<string, string | null>[]) => rows.sort((a, b) => Number(a.id) - Number(b.id));

  it('splits a table with more rows than partRows into ranges of its key; the parts add up to the table', async () => {
    const config: DevsnapConfig = { anonymise: { mode: 'warn' } };
    const plan = await exportInParts(shop, config, 60);
    // users (200 rows, bigint key) in four ranges, open at both ends; order_items (composite key) whole.
    expect(plan.ranges['public.users']).toEqual([
      { from: null, to: '51' },
      { from: '51', to: '101' },
      { from: '101', to: '151' },
      { from: '151', to: null },
    ]);
    expect(plan.ranges['public.order_items']).toBeUndefined();
    const manifest = await readManifest(store, plan.snapshotId);
    const users = manifest.tables.find((table) => table.name === 'users');
    expect(users?.files.map((file) => [file.key.split('/').at(-1), file.rows])).toEqual([
      ['part-00000.parquet', 50],
      ['part-00001.parquet', 50],
      ['part-00002.parquet', 50],
      ['part-00003.parquet', 50],
    ]);
    const whole = await exportSnapshot({ databaseUrl: shop.url, store, config });
    expect(byId(await snapshotRows(store, plan.snapshotId, 'public.users'))).toEqual(
      byId(await snapshotRows(store, whole.snapshotId, 'public.users')),
    );
  });

  it('keeps a table whose anonymised column must stay distinct in one part', async () => {
    const plan = await exportInParts(
      shop,
      { anonymise: { mode: 'warn', rules: { 'public.users.email': fake('internet.email') } } },
      60,
    );
    expect(plan.ranges['public.users']).toBeUndefined();
  });

  it('workers export the rows of the stored selection instead of selecting again', async () => {
    const config: DevsnapConfig = {
      anonymise: { mode: 'warn' },
      tables: { 'public.users': [randomSample({ count: 20, seed: 4 })] },
    };
    const connect = () => PgSource.connect(shop.url);
    const { plan, digestKey } = await withSource(connect, (source) => beginExport({ source, store, config }));
    // Swap the users' stored key set for three keys: the worker must export exactly those.
    const prefix = `snapshots/${plan.snapshotId}/.work/selection/`;
    const selection = JSON.parse((await store.readText(`${prefix}selection.json`)) ?? '');
    const usersKeys = selection.tables['public.users'].keys;
    expect(usersKeys).toMatchObject({ digest: false });
    await store.put(usersKeys.key, KeySet.of([1, 2, 3]).toBytes());
    await withSource(connect, (source) =>
      exportTables({ source, store, config, snapshotId: plan.snapshotId, parts: planParts(plan), digestKey }),
    );
    expect(await finalizeExport({ store, snapshotId: plan.snapshotId })).toMatchObject({
      status: 'published',
    });
    const users = await snapshotRows(store, plan.snapshotId, 'public.users');
    expect(users.map((user) => user.id).sort()).toEqual(['1', '2', '3']);
  });

  it('a worker reads only its own table: no selection and no value sampling of the others', async () => {
    const config: DevsnapConfig = {
      anonymise: { mode: 'warn' },
      tables: { 'public.users': [randomSample({ count: 20, seed: 4 })] },
    };
    const connect = () => PgSource.connect(shop.url);
    const { plan, digestKey } = await withSource(connect, (source) => beginExport({ source, store, config }));
    const statements: string[] = [];
    await withSource(connect, (source) => {
      // Records what the worker sends; the source itself is the real one.
      const recording = new Proxy(source, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver);
          if (name !== 'query' && name !== 'streamRows') return value;
          return (sql: string, ...rest: unknown[]) => {
            statements.push(sql);
            return (value as (...args: unknown[]) => unknown).call(target, sql, ...rest);
          };
        },
      });
      return exportTables({
        source: recording,
        store,
        config,
        snapshotId: plan.snapshotId,
        parts: [{ table: 'public.orders', part: 0 }],
        digestKey,
      });
    });
    const reads = statements.filter(
      (sql) => !/pg_catalog|information_schema|^SET |^SHOW |version\(\)/i.test(sql),
    );
    expect(reads.length).toBeGreaterThan(0);
    // Its value sample (a small table: read whole, up to 10,000 rows) and its rows, nothing else.
    expect(reads.filter((sql) => !/\bpublic"?\."?orders\b/.test(sql))).toEqual([]);
    expect(reads.some((sql) => sql.includes('LIMIT 10000'))).toBe(true);
  });

  it("a foreign key that follows a unique anonymised key maps each value as the key's own worker did, even in a cycle", async () => {
    const db = await createTestDatabase('export_retries');
    try {
      // Twelve codes hashed to one hex digit must collide, and the retries depend on arrival order:
      // accounts arrive 1…12, their logins 12…1. The two tables reference each other (one cycle).
      await db.client.query(`
        CREATE TABLE public.accounts (code text PRIMARY KEY, last_login int);
        CREATE TABLE public.logins (id int PRIMARY KEY, account_code text NOT NULL REFERENCES public.accounts (code));
        ALTER TABLE public.accounts ADD FOREIGN KEY (last_login) REFERENCES public.logins (id);
        INSERT INTO public.accounts SELECT 'account' || g FROM generate_series(1, 12) g;
        INSERT INTO public.logins SELECT g, 'account' || (13 - g) FROM generate_series(1, 12) g;
        UPDATE public.accounts SET last_login = 13 - substr(code, 8)::int;
      `);
      const config: DevsnapConfig = {
        anonymise: {
          mode: 'warn',
          secret: { env: 'DEVSNAP_SECRET' },
          rules: { 'public.accounts.code': hash({ length: 1 }) },
        },
      };
      const connect = () => PgSource.connect(db.url);
      const { plan, digestKey } = await withSource(connect, (source) =>
        beginExport({ source, store, config, env }),
      );
      // One cycle is one foreign-key level; the follower is moved to a level after its key's table.
      expect(plan.levels).toEqual([['public.accounts'], ['public.logins']]);
      // Level by level, each table in its own worker, a level's tables in any order.
      for (const level of plan.levels) {
        for (const part of planParts(plan, level).reverse()) {
          await withSource(connect, (source) =>
            exportTables({
              source,
              store,
              config,
              env,
              snapshotId: plan.snapshotId,
              parts: [part],
              digestKey,
            }),
          );
        }
      }
      expect(await finalizeExport({ store, snapshotId: plan.snapshotId })).toMatchObject({
        status: 'published',
      });
      const codes = (await snapshotRows(store, plan.snapshotId, 'public.accounts'))
        .map((row) => row.code)
        .sort();
      expect(new Set(codes).size).toBe(12);
      const logins = await snapshotRows(store, plan.snapshotId, 'public.logins');
      expect(logins.map((row) => row.account_code).sort()).toEqual(codes);
    } finally {
      await db.drop();
    }
  });

  it('stops a worker given another digest key than the plan used, and the run is not published', async () => {
    const connect = () => PgSource.connect(shop.url);
    const config: DevsnapConfig = { anonymise: { mode: 'warn' } };
    const { plan } = await withSource(connect, (source) => beginExport({ source, store, config }));
    const parts = [{ table: 'public.users', part: 0 }];
    await expect(
      withSource(connect, (source) =>
        exportTables({ source, store, config, snapshotId: plan.snapshotId, parts, digestKey: 'not-the-key' }),
      ),
    ).rejects.toThrow('This worker was given another digest key than the plan step used.');
    expect(await finalizeExport({ store, snapshotId: plan.snapshotId })).toMatchObject({
      status: 'failed',
      failures: [{ table: 'public.users', error: expect.stringContaining('another digest key') }],
    });
  });

  it('stores key sets over anonymised columns as digests only, and the workers still join on them', async () => {
    const config: DevsnapConfig = {
      tables: { 'public.people': [randomSample({ count: 5, seed: 3 })] },
      anonymise: {
        mode: 'strict',
        secret: { env: 'DEVSNAP_SECRET' },
        rules: {
          'public.people.email': fake('internet.email'),
          'public.people.name': fake('person.fullName'),
        },
      },
    };
    const connect = () => PgSource.connect(people.url);
    const { plan, digestKey } = await withSource(connect, (source) =>
      beginExport({ source, store, config, env }),
    );
    const prefix = `snapshots/${plan.snapshotId}/.work/`;
    const stored = await Promise.all(
      (await store.list(prefix)).map(async (key) => {
        const chunks: Uint8Array[] = [];
        for await (const chunk of await store.get(key)) chunks.push(chunk);
        return Buffer.concat(chunks).toString('latin1');
      }),
    );
    expect(stored.length).toBeGreaterThan(2);
    for (const bytes of stored) expect(bytes).not.toMatch(/person\d+@example\.org|Name\d/);
    const selection = JSON.parse((await store.readText(`${prefix}selection/selection.json`)) ?? '');
    expect(selection.tables['public.people'].keys).toMatchObject({ digest: true });

    for (const part of planParts(plan)) {
      await withSource(connect, (source) =>
        exportTables({ source, store, config, env, snapshotId: plan.snapshotId, parts: [part], digestKey }),
      );
    }
    expect(await finalizeExport({ store, snapshotId: plan.snapshotId })).toMatchObject({
      status: 'published',
    });
    const whole = await exportSnapshot({ databaseUrl: people.url, store, config, env });
    for (const table of ['public.people', 'public.visits']) {
      const sorted = (rows: Record<string, string | null>[]) => rows.map((row) => JSON.stringify(row)).sort();
      expect(sorted(await snapshotRows(store, plan.snapshotId, table))).toEqual(
        sorted(await snapshotRows(store, whole.snapshotId, table)),
      );
    }
    expect(await snapshotRows(store, plan.snapshotId, 'public.people')).toHaveLength(5);
    expect((await snapshotRows(store, plan.snapshotId, 'public.visits')).length).toBe(15);
  });
});

describe('a distributed export: the known-value index', () => {
  const env = { DEVSNAP_SECRET: 'known-values-test-secret-0c4e2a7f19b8d356' };
  let staff: TestDatabase;
  let store: TemporaryStore;
  const RAW = /Zorvath|Brindlemoss|Quillon|Thackerby|Ysmeralde|Crowthwaite|Oberyk|Fennimoor/i;
  const config: DevsnapConfig = {
    // Two of the four staff rows are exported; memos name all four.
    tables: { 'public.staff': [randomSample({ count: 2, seed: 5 })] },
    anonymise: {
      mode: 'strict',
      secret: { env: 'DEVSNAP_SECRET' },
      rules: {
        'public.staff.first_name': fake('person.firstName'),
        'public.staff.last_name': fake('person.lastName'),
        'public.memos.body': scrub(),
      },
    },
  };

  beforeAll(async () => {
    staff = await createTestDatabase('export_known');
    await staff.client.query(`
      -- Names no dictionary holds: only the staff table can tell that memos name people.
      CREATE TABLE public.staff (id int PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL);
      CREATE TABLE public.memos (id int PRIMARY KEY, body text NOT NULL);
      INSERT INTO public.staff VALUES (1, 'Zorvath', 'Brindlemoss'), (2, 'Quillon', 'Thackerby'),
        (3, 'Ysmeralde', 'Crowthwaite'), (4, 'Oberyk', 'Fennimoor');
      INSERT INTO public.memos SELECT g, CASE g % 4
          WHEN 0 THEN 'Zorvath Brindlemoss called about invoice ' || g
          WHEN 1 THEN 'Ask Quillon before shipping order ' || g
          WHEN 2 THEN 'Thanks Ysmeralde Crowthwaite! (order ' || g || ')'
          ELSE 'Oberyk Fennimoor left a note on order ' || g END
        FROM generate_series(1, 12) g;
    `);
    store = await temporaryStore();
  });
  afterAll(async () => {
    await store?.remove();
    await staff?.drop();
  });

  it('the plan step stores it as digests in .work/, workers scrub with it, and text gets the names’ own fakes, for staff outside the subset too', async () => {
    const connect = () => PgSource.connect(staff.url);
    const { plan, digestKey } = await withSource(connect, (source) =>
      beginExport({ source, store, config, env }),
    );
    const chunks: Uint8Array[] = [];
    for await (const chunk of await store.get(`snapshots/${plan.snapshotId}/.work/known-values.bin`))
      chunks.push(chunk);
    const index = Buffer.concat(chunks);
    expect(index.length).toBeGreaterThan(1000);
    expect(index.toString('latin1')).not.toMatch(RAW);
    for (const part of planParts(plan)) {
      await withSource(connect, (source) =>
        exportTables({ source, store, config, env, snapshotId: plan.snapshotId, parts: [part], digestKey }),
      );
    }
    expect(await finalizeExport({ store, snapshotId: plan.snapshotId })).toMatchObject({
      status: 'published',
    });

    const memos = await snapshotRows(store, plan.snapshotId, 'public.memos');
    expect(memos).toHaveLength(12);
    expect(memos.filter((memo) => RAW.test(memo.body ?? ''))).toEqual([]);
    // Each exported staff member's fake names are the ones the memos about them carry.
    const exported = await snapshotRows(store, plan.snapshotId, 'public.staff');
    expect(exported).toHaveLength(2);
    for (const person of exported) {
      const about = memos.filter((memo) => Number(memo.id) % 4 === Number(person.id) - 1);
      expect(about.length).toBe(3);
      for (const memo of about) {
        expect(memo.body).toContain(person.first_name);
        // Quillon's memos name him by his first name only.
        if (person.id !== '2') expect(memo.body).toContain(`${person.first_name} ${person.last_name}`);
      }
    }
    // The CLI's one-process export gives the same text.
    const whole = await exportSnapshot({ databaseUrl: staff.url, store, config, env });
    const sorted = (rows: Record<string, string | null>[]) => rows.map((row) => JSON.stringify(row)).sort();
    expect(sorted(await snapshotRows(store, whole.snapshotId, 'public.memos'))).toEqual(sorted(memos));
  });

  it('a worker whose index is missing stops with a clear error, and the run is not published', async () => {
    const connect = () => PgSource.connect(staff.url);
    const { plan, digestKey } = await withSource(connect, (source) =>
      beginExport({ source, store, config, env }),
    );
    await store.deletePrefix(`snapshots/${plan.snapshotId}/.work/known-values.bin`);
    const parts = [{ table: 'public.memos', part: 0 }];
    await expect(
      withSource(connect, (source) =>
        exportTables({ source, store, config, env, snapshotId: plan.snapshotId, parts, digestKey }),
      ),
    ).rejects.toThrow("The export's known-value index is missing from its work folder.");
    expect(await finalizeExport({ store, snapshotId: plan.snapshotId })).toMatchObject({ status: 'failed' });
  });
});

async function withSource<T>(
  connect: () => Promise<PgSource>,
  run: (source: PgSource) => Promise<T>,
): Promise<T> {
  const source = await connect();
  try {
    return await run(source);
  } finally {
    await source.close();
  }
}

describe('devsnap export --jobs: the pipeline steps in one process, several connections in one snapshot', () => {
  let db: TestDatabase;
  let store: TemporaryStore;

  beforeAll(async () => {
    db = await createShopDatabase('export_jobs');
    store = await temporaryStore();
  });
  afterAll(async () => {
    await store?.remove();
    await db?.drop();
  });

  it('a connection joined to an exported snapshot does not see rows committed after it', async () => {
    const holder = await PgSource.connect(db.url);
    try {
      const snapshot = await holder.exportSnapshot();
      const count = async (source: PgSource) =>
        (await source.query<{ n: string }>('SELECT count(*)::text AS n FROM public.events'))[0]?.n;
      const before = await count(holder);
      await db.client.query(`INSERT INTO public.events (happened_at, kind) VALUES ('2026-06-01', 'late')`);
      const joined = await PgSource.connect(db.url, { snapshot });
      try {
        expect(await count(joined)).toBe(before);
      } finally {
        await joined.close();
      }
      await expect(PgSource.connect(db.url, { snapshot: "x'; DROP TABLE users; --" })).rejects.toThrow(
        /Not a snapshot id/,
      );
    } finally {
      await holder.close();
      await db.client.query(`DELETE FROM public.events WHERE kind = 'late'`);
    }
  });

  it('exports the same rows with two jobs and table parts as with one connection', async () => {
    const SECRET = 'jobs-test-secret-0b6e2d94c1a7f358';
    const config: DevsnapConfig = {
      tables: { 'public.orders': [randomSample({ count: 40, seed: 2 })] },
      anonymise: {
        mode: 'warn',
        secret: { env: 'DEVSNAP_SECRET' },
        rules: { 'public.users.first_name': fake('person.firstName') },
      },
    };
    const env = { DEVSNAP_SECRET: SECRET };
    const one = await exportSnapshot({ databaseUrl: db.url, store, config, env });
    const two = await exportSnapshot({ databaseUrl: db.url, store, config, env, jobs: 2, partRows: 60 });
    const manifest = await readManifest(store, two.snapshotId);
    const users = manifest.tables.find((table) => table.name === 'users');
    expect(users?.files.length).toBeGreaterThan(1);
    expect(two.tables.map(({ table, rows }) => [table, rows])).toEqual(
      one.tables.map(({ table, rows }) => [table, rows]),
    );
    for (const { table } of one.tables) {
      const sorted = (rows: Record<string, string | null>[]) => rows.map((row) => JSON.stringify(row)).sort();
      expect(sorted(await snapshotRows(store, two.snapshotId, table))).toEqual(
        sorted(await snapshotRows(store, one.snapshotId, table)),
      );
    }
    expect(await store.list(`snapshots/${two.snapshotId}/.work/`)).toEqual([]);
  });

  it('devsnap export --jobs refuses a count that is not a whole number from 1 to 64', async () => {
    const run = await runDevsnap([
      'export',
      '--database-url',
      db.url,
      '--store',
      store.location,
      '--jobs',
      '0',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--jobs must be a whole number from 1 to 64 (got "0")');
    const configPath = fileURLToPath(new URL('../fixtures/pipeline.config.ts', import.meta.url));
    const ok = await runDevsnap(
      [
        'export',
        '--database-url',
        db.url,
        '--store',
        store.location,
        '--config',
        configPath,
        '--jobs',
        '3',
        '--json',
      ],
      { env: {} },
    );
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      tables: expect.arrayContaining([expect.objectContaining({ table: 'public.orders', rows: 5 })]),
    });
  });
});
