import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
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
import {
  type TableFingerprint,
  type TemporaryStore,
  tableFingerprints,
  temporaryStore,
} from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

async function databasesLike(prefix: string): Promise<{ datname: string; datallowconn: boolean }[]> {
  return withAdmin(
    async (admin) =>
      (
        await admin.query<{ datname: string; datallowconn: boolean }>(
          'SELECT datname, datallowconn FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1',
          [prefix],
        )
      ).rows,
  );
}

describe('devsnap reset: back to the imported snapshot from the kept template', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let target: string;
  let imported: Record<string, TableFingerprint>;

  beforeAll(async () => {
    source = await createShopDatabase('reset_src');
    store = await temporaryStore();
    await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } });
    target = uniqueDatabaseName('reset_dst');
    await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: async () => true });
    imported = await withDatabase(target, tableFingerprints);
  });
  afterAll(async () => {
    await dropDatabase(target);
    await source.drop();
    await store.remove();
  });

  it('keeps <db>__devsnap_template after an import, closed to connections', async () => {
    expect(await databasesLike(target)).toEqual([
      { datname: target, datallowconn: true },
      { datname: `${target}__devsnap_template`, datallowconn: false },
    ]);
  });

  it('restores every row, drops what was added, ends other sessions, and leaves nothing behind', async () => {
    await queryDatabase(target, 'DELETE FROM public.shipments; CREATE TABLE public.scratch (x int)');
    const app = new pg.Client({ connectionString: serverUrl(target), application_name: 'my-app' });
    app.on('error', () => {});
    await app.connect();
    try {
      const refused = await runDevsnap(['reset', '--database-url', serverUrl(target)]);
      expect(refused.code).toBe(6);
      expect(refused.stderr.slice(refused.stderr.indexOf('devsnap: '))).toBe(
        `devsnap: This puts database "${target}" back to the snapshot it was imported from; every change since will be lost. No terminal to confirm on.\n` +
          '  Pass --yes to confirm in scripts.\n',
      );
      expect(await queryDatabase(target, 'SELECT count(*)::int AS n FROM public.shipments')).toEqual([
        { n: 0 },
      ]);

      const run = await runDevsnap(['reset', '--database-url', serverUrl(target), '--yes']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Reset "${target}" from ${target}__devsnap_template in \\d`));
      expect(run.stderr).toContain(
        `! Ended 1 other session connected to "${target}" to swap in the new database.`,
      );
      await expect(app.query('SELECT 1')).rejects.toThrow();
    } finally {
      await app.end().catch(() => {});
    }
    expect(await withDatabase(target, tableFingerprints)).toEqual(imported);
    expect(await queryDatabase(target, "SELECT to_regclass('public.scratch') AS t")).toEqual([{ t: null }]);
    expect((await databasesLike(target)).map((row) => row.datname)).toEqual([
      target,
      `${target}__devsnap_template`,
    ]);
  });

  it('--no-template keeps none (and drops a stale one); reset then says how to get one', async () => {
    const run = await runDevsnap([
      'import',
      '--store',
      store.location,
      '--database-url',
      serverUrl(target),
      '--yes',
      '--no-template',
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect((await databasesLike(target)).map((row) => row.datname)).toEqual([target]);
    const reset = await runDevsnap(['reset', '--database-url', serverUrl(target), '--yes']);
    expect(reset.code).toBe(3);
    expect(reset.stderr).toBe(
      `devsnap: There is no template to reset "${target}" from (${target}__devsnap_template).\n` +
        `  Import a snapshot first (devsnap import --database-url ${serverUrl(target).replace(':postgres@', ':***@')} …); it keeps the template unless --no-template.\n`,
    );
  });
});
