import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { RESET_MODES } from '../../core/import/reset-modes.js';
import { manifestSchema } from '../../core/manifest.js';
import type { ProgressEvent } from '../../core/progress.js';
import { inspectSnapshot } from '../../core/snapshot-catalog.js';
import {
  dropDatabase,
  queryDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
  withDatabase,
} from '../support/databases.js';
import { type TemporaryStore, tableFingerprints, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const yes = async () => true;
// Tests fidelity, not anonymisation: personal columns go through as they are (warn mode).
const fidelityConfig = { anonymise: { mode: 'warn' } } as const;

describe('export then import of the small shop fixture', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let snapshotId: string;
  const events: ProgressEvent[] = [];

  beforeAll(async () => {
    source = await createShopDatabase('shop_src');
    store = await temporaryStore();
    const result = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config: fidelityConfig,
      reporter: { report: (event) => events.push(event) },
    });
    snapshotId = result.snapshotId;
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });

  it('writes the documented layout and a manifest that describes it', async () => {
    const keys = await store.list('');
    const prefix = `snapshots/${snapshotId}/`;
    expect(keys).toContain(`${prefix}manifest.json`);
    expect(keys).toContain(`${prefix}schema/pre-data.sql`);
    expect(keys).toContain(`${prefix}schema/post-data.sql`);
    expect(keys).toContain(`${prefix}data/public.users/part-00000.parquet`);
    expect(keys).toContain(`${prefix}data/Billing.Invoice%20Lines/part-00000.parquet`);
    // Partitions are exported once, through their parent.
    expect(keys).toContain(`${prefix}data/public.events/part-00000.parquet`);
    expect(keys.some((key) => key.includes('events_2025'))).toBe(false);
    const latest = JSON.parse((await store.readText('latest.json')) ?? '{}');
    expect(latest.snapshotId).toBe(snapshotId);

    const manifest = manifestSchema.parse(JSON.parse((await store.readText(`${prefix}manifest.json`)) ?? ''));
    const users = manifest.tables.find((t) => t.name === 'users');
    expect(users?.rows).toBe(200);
    expect(users?.generatedColumns).toEqual(['full_name']);
    expect(users?.columns.map((c) => c.name)).not.toContain('full_name');
    expect(users?.columns.find((c) => c.name === 'id')).toMatchObject({
      pgType: 'bigint',
      arrowType: expect.stringMatching(/int64/i),
    });
    expect(manifest.tables.find((t) => t.name === 'events')?.partitions).toEqual([
      'public.events_2025',
      'public.events_2026',
    ]);
    expect(manifest.tables.find((t) => t.name === 'events')?.rows).toBe(400);
    const invoiceSequence = manifest.sequences.find((s) => s.name === 'invoice_seq');
    expect(invoiceSequence).toMatchObject({ ownedBy: null, lastValue: String(1000 + 7 * 503) });
    expect(manifest.totals.rows).toBe(200 + 501 + 1500 + 300 + 50 + 400);
    for (const file of manifest.tables.flatMap((t) => t.files)) {
      expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(file.bytes).toBeGreaterThan(0);
    }
    expect(
      events.filter((e) => e.type === 'table-done').map((e) => (e as { table: string }).table),
    ).toContain('public.orders');
  });

  it('reads the source with application_name devsnap-export and never writes to it', async () => {
    const before = await tableFingerprints(source.client);
    await exportSnapshot({ databaseUrl: source.url, store, config: fidelityConfig });
    expect(await tableFingerprints(source.client)).toEqual(before);
    const { rows } = await source.client.query<{ n: string }>(`SELECT nextval('"Billing".invoice_seq') AS n`);
    expect(rows[0]?.n).toBe(String(1000 + 7 * 504));
  });

  for (const mode of Object.values(RESET_MODES)) {
    it(`imports with reset mode ${mode.name}: every row equal, sequences past the max key`, async () => {
      const target = uniqueDatabaseName(`shop_${mode.name.replace('-', '_')}`);
      if (mode.name !== 'drop-database') {
        await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
      }
      try {
        const result = await importSnapshot({
          databaseUrl: serverUrl(target),
          store,
          snapshot: snapshotId,
          resetMode: mode.name,
          confirm: yes,
        });
        expect(result.totalRows).toBe(2951);
        await withDatabase(target, async (targetClient) => {
          expect(await tableFingerprints(targetClient)).toEqual(await tableFingerprints(source.client));
          const next = await targetClient.query<{ users: string; orders: string; invoice: string }>(
            `SELECT (SELECT max(id) FROM public.users) AS users, (SELECT max(id) FROM public.orders) AS orders,
                    nextval('"Billing".invoice_seq') AS invoice`,
          );
          expect(next.rows[0]?.invoice).toBe(String(1000 + 7 * 504));
          const inserted = await targetClient.query<{ id: string }>(
            `INSERT INTO public.users (email) VALUES ('new@example.com') RETURNING id`,
          );
          expect(Number(inserted.rows[0]?.id)).toBeGreaterThan(Number(next.rows[0]?.users));
          const order = await targetClient.query<{ id: number }>(
            `INSERT INTO public.orders (user_id, total) VALUES (1, 1) RETURNING id`,
          );
          expect(order.rows[0]?.id).toBeGreaterThan(Number(next.rows[0]?.orders));
          // Constraints came back: a dangling foreign key is refused.
          await expect(
            targetClient.query('INSERT INTO public.orders (user_id, total) VALUES (99999, 1)'),
          ).rejects.toThrow(/foreign key/);
        });
      } finally {
        await dropDatabase(target);
      }
    });
  }

  it('drop-database copies tables in parallel over several connections, largest first', async () => {
    const target = uniqueDatabaseName('shop_jobs');
    const seen: ProgressEvent[] = [];
    try {
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: yes,
        jobs: 3,
        reporter: { report: (event) => seen.push(event) },
      });
      const firstDone = seen.findIndex((event) => event.type === 'table-done');
      const started = seen.slice(0, firstDone).filter((event) => event.type === 'table-start');
      expect(started.length).toBe(3);
      const manifest = await inspectSnapshot(store, snapshotId);
      const bytes = (t: (typeof manifest.tables)[number]) => t.files.reduce((sum, f) => sum + f.bytes, 0);
      const largest = [...manifest.tables].sort((a, b) => bytes(b) - bytes(a))[0]!;
      expect((started[0] as { table: string }).table).toBe(`${largest.schema}.${largest.name}`);
      expect(await withDatabase(target, tableFingerprints)).toEqual(await tableFingerprints(source.client));
    } finally {
      await dropDatabase(target);
    }
  });

  it('drop-database replaces an existing database and leaves no work database behind', async () => {
    const target = uniqueDatabaseName('shop_replace');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    await queryDatabase(target, 'CREATE TABLE stale (id int); INSERT INTO stale VALUES (1)');
    try {
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        resetMode: 'drop-database',
        confirm: yes,
      });
      const tables = await queryDatabase<{ relname: string }>(
        target,
        `SELECT relname FROM pg_class WHERE relname = 'stale'`,
      );
      expect(tables).toEqual([]);
      const leftovers = await withAdmin(async (admin) =>
        (await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE '${target}%'`)).rows.map(
          (r) => r.datname,
        ),
      );
      expect(leftovers.sort()).toEqual([target, `${target}__devsnap_template`]);
    } finally {
      await dropDatabase(target);
    }
  });

  it('drop-tables keeps objects the snapshot does not contain', async () => {
    const target = uniqueDatabaseName('shop_keep');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    try {
      await importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'none' });
      await queryDatabase(
        target,
        'CREATE TABLE my_notes (body text); INSERT INTO my_notes VALUES ($$keep me$$)',
      );
      await queryDatabase(target, `DELETE FROM public.shipments WHERE id > 10`);
      await importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'drop-tables', confirm: yes });
      expect(await queryDatabase(target, 'SELECT body FROM my_notes')).toEqual([{ body: 'keep me' }]);
      expect(await queryDatabase(target, 'SELECT count(*)::int AS n FROM public.shipments')).toEqual([
        { n: 300 },
      ]);
    } finally {
      await dropDatabase(target);
    }
  });

  it('drop-tables refuses to drop a type that a table outside the snapshot uses', async () => {
    const target = uniqueDatabaseName('shop_usedtype');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    try {
      await importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'none' });
      await queryDatabase(
        target,
        `CREATE TABLE my_status (s public.order_status); INSERT INTO my_status VALUES ('paid')`,
      );
      await expect(
        importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'drop-tables', confirm: yes }),
      ).rejects.toThrow(
        /devsnap cannot reset: DROP TYPE IF EXISTS public\.order_status \(objects outside the snapshot still use it\)/,
      );
      expect(await queryDatabase(target, 'SELECT s::text FROM my_status')).toEqual([{ s: 'paid' }]);
      expect(await queryDatabase(target, 'SELECT count(*)::int AS n FROM public.orders')).toEqual([
        { n: 501 },
      ]);
    } finally {
      await dropDatabase(target);
    }
  });

  it('none refuses to load over existing tables and leaves the database unchanged', async () => {
    const target = uniqueDatabaseName('shop_none');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    try {
      await importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'none' });
      await queryDatabase(target, `DELETE FROM public.shipments WHERE id > 10`);
      await expect(
        importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'none' }),
      ).rejects.toThrow(
        /pre-data\.sql failed on the target database at line \d+ \(CREATE .*\): .*already exists/,
      );
      expect(await queryDatabase(target, 'SELECT count(*)::int AS n FROM public.shipments')).toEqual([
        { n: 10 },
      ]);
    } finally {
      await dropDatabase(target);
    }
  });

  it('refuses a destructive reset without confirmation and leaves the database unchanged', async () => {
    const target = uniqueDatabaseName('shop_confirm');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    await queryDatabase(target, 'CREATE TABLE precious (id int); INSERT INTO precious VALUES (42)');
    try {
      await expect(importSnapshot({ databaseUrl: serverUrl(target), store })).rejects.toThrow(
        /replaces database ".*" with the snapshot; everything in it now will be lost\. Refusing without confirmation/,
      );
      await expect(
        importSnapshot({
          databaseUrl: serverUrl(target),
          store,
          resetMode: 'drop-tables',
          confirm: async () => false,
        }),
      ).rejects.toThrow(/cancelled; nothing was changed/);
      expect(await queryDatabase(target, 'SELECT id FROM precious')).toEqual([{ id: 42 }]);
    } finally {
      await dropDatabase(target);
    }
  });

  it('refuses to run while another import holds the server lock, naming that process', async () => {
    const other = new pg.Client({
      connectionString: serverUrl('postgres'),
      application_name: 'devsnap-import',
    });
    await other.connect();
    try {
      const { rows } = await other.query<{ pid: number }>(
        'SELECT pg_backend_pid() AS pid, pg_advisory_lock($1, 1)',
        [0x64657673],
      );
      await expect(
        importSnapshot({
          databaseUrl: serverUrl(uniqueDatabaseName('locked')),
          store,
          confirm: yes,
          lockWaitMs: 500,
        }),
      ).rejects.toThrow(
        new RegExp(
          `Another devsnap import is running on this server \\(server process ${rows[0]?.pid}, devsnap-import, since`,
        ),
      );
    } finally {
      await other.end();
    }
  });

  it('records the schema files it wrote, byte for byte', async () => {
    const manifest = manifestSchema.parse(
      JSON.parse((await store.readText(`snapshots/${snapshotId}/manifest.json`)) ?? ''),
    );
    const preData = await readFile(store.localPath(manifest.schema.preData.key), 'utf8');
    expect(preData).toContain('CREATE TYPE public.order_status AS ENUM');
    expect(preData).toMatch(/CREATE TABLE "Billing"\."Invoice Lines"/);
    expect(Buffer.byteLength(preData)).toBe(manifest.schema.preData.bytes);
  });
});
