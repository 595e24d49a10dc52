import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import {
  dropDatabase,
  queryDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
  withDatabase,
} from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const yes = async () => true;

describe('--schema-command: the team builds the schema, devsnap loads the data by column name', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let schemaFile: string;

  beforeAll(async () => {
    source = await createShopDatabase('schemacmd_src');
    store = await temporaryStore();
    // Fidelity of the data path is tested here, not anonymisation.
    await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } });
    // The team's schema file: today's schema with one column renamed away and one added.
    const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', source.url], {
      encoding: 'utf8',
    });
    schemaFile = join(store.location, 'team-schema.sql');
    await writeFile(
      schemaFile,
      `${dump}\nALTER TABLE public.orders DROP COLUMN note;\nALTER TABLE public.orders ADD COLUMN discount numeric;\n`,
    );
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });

  const command = () => `psql -X -q -v ON_ERROR_STOP=1 -f '${schemaFile}'`;

  it('lists columns present on one side only and leaves the database untouched', async () => {
    const target = uniqueDatabaseName('schemacmd_a');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    try {
      const error = await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: yes,
        schemaCommand: command(),
      }).then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error?.message).toContain('The schema built by --schema-command does not match the snapshot:');
      expect(error?.message).toContain('public.orders.note: in the snapshot only');
      expect(error?.message).toContain('public.orders.discount: in the new schema only');
      const tables = (
        await queryDatabase(target, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)
      )[0]?.n;
      expect(tables).toBe(0);
    } finally {
      await dropDatabase(target);
    }
  });

  it("with --allow-missing-columns loads what both sides have, under the team schema's constraints", async () => {
    const target = uniqueDatabaseName('schemacmd_b');
    try {
      const result = await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: yes,
        schemaCommand: command(),
        allowMissingColumns: true,
      });
      expect(result.totalRows).toBe(2951);
      await withDatabase(target, async (client) => {
        const orders = await client.query(
          `SELECT count(*)::int AS n, count(discount)::int AS discounts, sum(total)::text AS total FROM public.orders`,
        );
        const expected = await source.client.query(`SELECT sum(total)::text AS total FROM public.orders`);
        expect(orders.rows[0]).toEqual({ n: 501, discounts: 0, total: expected.rows[0]?.total });
        await expect(
          client.query('INSERT INTO public.orders (user_id, total) VALUES (99999, 1)'),
        ).rejects.toThrow(/foreign key/);
      });
    } finally {
      await dropDatabase(target);
    }
  });

  it('reports a failing command with its output, and only works with drop-database', async () => {
    const target = uniqueDatabaseName('schemacmd_c');
    await expect(
      importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: yes,
        schemaCommand: 'echo "relation missing" >&2; exit 3',
      }),
    ).rejects.toThrow(/The schema command failed \(exit code 3\): echo .*\n\s+relation missing/);
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'none', schemaCommand: 'true' }),
    ).rejects.toThrow(/--schema-command works with --reset-mode drop-database only \(got none\)/);
    const leftovers = await withAdmin(
      async (admin) =>
        (await admin.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [target])).rows,
    );
    expect(leftovers).toEqual([]);
  });
});
