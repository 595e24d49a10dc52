import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import type { ProgressEvent } from '../../core/progress.js';
import { runDevsnap } from '../support/cli-harness.js';
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

/** Tables in the public schema of a database: a refused import must add none. */
async function publicTables(database: string): Promise<number> {
  const [row] = await queryDatabase<{ n: number }>(
    database,
    "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
  );
  return row?.n ?? -1;
}

/** The test server's URL for `database`, logged in as `role`. */
function urlAs(role: string, database: string): string {
  const url = new URL(serverUrl(database));
  url.username = role;
  url.password = 'pw';
  return url.toString();
}

describe('targets an import must never replace', () => {
  let source: TestDatabase;
  let store: TemporaryStore;

  beforeAll(async () => {
    source = await createShopDatabase('refuse_src');
    store = await temporaryStore();
    await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } });
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });

  const importInto = (database: string, ...extra: string[]) =>
    runDevsnap([
      'import',
      '--store',
      store.location,
      '--database-url',
      serverUrl(database),
      '--yes',
      ...extra,
    ]);

  it('refuses template1 and postgres by name, with exit code 2 and nothing changed', async () => {
    const before = await publicTables('template1');
    const template = await importInto('template1', '--json');
    expect(template.code).toBe(2);
    expect(JSON.parse(template.stdout)).toEqual({
      ok: false,
      error: {
        name: 'UsageError',
        message:
          'Refusing to import into "template1": it is a template database: every new database on the server is copied from one.',
        hint: 'Name your development database in --database-url, e.g. postgres://localhost:5432/app_dev.',
        exitCode: 2,
      },
    });
    expect(await publicTables('template1')).toBe(before);
    const postgres = await importInto('postgres', '--reset-mode', 'drop-tables');
    expect(postgres.code).toBe(2);
    expect(postgres.stderr).toBe(
      'devsnap: Refusing to import into "postgres": it is the server\'s maintenance database, which tools and devsnap itself connect to.\n' +
        '  Name your development database in --database-url, e.g. postgres://localhost:5432/app_dev.\n',
    );
  });

  it('refuses a database marked as a template, whatever its name', async () => {
    const name = uniqueDatabaseName('refuse_tpl');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${name} IS_TEMPLATE true`));
    try {
      const run = await importInto(name, '--reset-mode', 'none');
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /^devsnap: Refusing to import into "refuse_tpl_\w+": it is a template database/,
      );
      expect(await publicTables(name)).toBe(0);
    } finally {
      await withAdmin((admin) => admin.query(`ALTER DATABASE ${name} IS_TEMPLATE false`));
      await dropDatabase(name);
    }
  });

  it("refuses the snapshot's own source database", async () => {
    const before = await tableFingerprints(source.client);
    const manifest = JSON.parse(
      (await store.readText(
        `snapshots/${(await store.list('snapshots/'))[0]?.split('/')[1]}/manifest.json`,
      )) ?? '{}',
    );
    expect(manifest.source).toMatchObject({
      database: source.name,
      systemIdentifier: expect.stringMatching(/^\d+$/),
    });
    const run = await importInto(source.name);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `devsnap: Refusing to import into "${source.name}": it is the database snapshot ${manifest.snapshotId} was exported from.\n` +
        '  Name your development database in --database-url, e.g. postgres://localhost:5432/app_dev.\n',
    );
    expect(await tableFingerprints(source.client)).toEqual(before);
  });

  describe('a role without CREATEDB', () => {
    const role = `lowly_${randomBytes(4).toString('hex')}`;
    let target: string;
    beforeAll(async () => {
      target = uniqueDatabaseName('refuse_role');
      await withAdmin(async (admin) => {
        await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
        await admin.query(`CREATE DATABASE ${target} OWNER ${role}`);
      });
    });
    afterAll(async () => {
      await dropDatabase(target);
      await withAdmin((admin) => admin.query(`DROP ROLE IF EXISTS ${role}`));
    });

    it('is found before anything else, with both ways out; drop-tables then works', async () => {
      const events: ProgressEvent[] = [];
      const attempt = importSnapshot({
        databaseUrl: urlAs(role, target),
        store,
        confirm: yes,
        reporter: { report: (event) => events.push(event) },
      });
      await expect(attempt).rejects.toThrow(
        `Role ${role} may not create databases, which --reset-mode drop-database (the default) needs to build the new "${target}" beside the old one.`,
      );
      await expect(attempt).rejects.toMatchObject({
        exitCode: 3,
        hint: `Either grant it (as a superuser: ALTER ROLE ${role} CREATEDB), or import with --reset-mode drop-tables, which works inside the existing database.`,
      });
      // Refused before the snapshot was even verified.
      expect(events).toEqual([]);
      const imported = await importSnapshot({
        databaseUrl: urlAs(role, target),
        store,
        resetMode: 'drop-tables',
        confirm: yes,
      });
      expect(imported.totalRows).toBe(2951);
    });

    it('makes doctor fail with exit code 1, naming both ways out', async () => {
      const run = await runDevsnap([
        'doctor',
        '--database-url',
        urlAs(role, target),
        '--cache-dir',
        store.location,
      ]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        new RegExp(
          `^✗ database: PostgreSQL 15\\.\\d+ at postgres://${role}:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/${target}; role ${role} may not create databases, which the default --reset-mode drop-database needs\\n {4}→ Grant it \\(as a superuser: ALTER ROLE ${role} CREATEDB\\), or import with --reset-mode drop-tables\\.$`,
          'm',
        ),
      );
    });
  });

  describe('locks held by another session', () => {
    let target: string;
    let holder: pg.Client;
    beforeAll(async () => {
      target = uniqueDatabaseName('refuse_lock');
      await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
      await importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'none' });
      holder = new pg.Client({ connectionString: serverUrl(target), application_name: 'my-psql' });
      holder.on('error', () => {});
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM public.orders');
    });
    afterAll(async () => {
      await holder.end().catch(() => {});
      await dropDatabase(target);
    });

    it('gives up after the retries, naming the session, and --end-sessions ends it', async () => {
      const before = await withDatabase(target, tableFingerprints);
      const events: ProgressEvent[] = [];
      const lockWait = { timeoutMs: 200, attempts: 2 };
      const options = {
        databaseUrl: serverUrl(target),
        store,
        resetMode: 'drop-tables' as const,
        confirm: yes,
        lockWait,
        reporter: { report: (event: ProgressEvent) => events.push(event) },
      };
      const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
        { pid: number },
      ];
      const attempt = importSnapshot(options);
      await expect(attempt).rejects.toThrow(
        new RegExp(
          `^Gave up after waiting 0\\.4 s for locks on the snapshot's tables in "${target}"; nothing was changed\\.\\n {2}session ${pid} \\(my-psql, user postgres, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\) holds public\\.orders$`,
        ),
      );
      await expect(attempt).rejects.toMatchObject({
        exitCode: 3,
        hint: 'Close that session (or commit its transaction), or pass --end-sessions to end it and import.',
      });
      expect(
        events
          .filter((event) => event.type === 'notice')
          .map((event) => event.type === 'notice' && event.message),
      ).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Waiting for locks on the snapshot's tables: session ${pid} \\(my-psql.*\\(attempt 2 of 2\\)\\.$`,
          ),
        ),
      ]);
      expect(await withDatabase(target, tableFingerprints)).toEqual(before);

      events.length = 0;
      const result = await importSnapshot({ ...options, endSessions: true });
      expect(result.totalRows).toBe(2951);
      expect(events).toContainEqual({
        type: 'notice',
        message: expect.stringMatching(
          new RegExp(`^Ended session ${pid} \\(my-psql, .*holds public\\.orders \\(--end-sessions\\)\\.$`),
        ),
      });
      await expect(holder.query('SELECT 1')).rejects.toThrow();
    });
  });
});
