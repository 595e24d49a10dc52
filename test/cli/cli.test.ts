import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/embedded-postgres-server.js';
import { runDevsnap, spawnDevsnap } from '../support/cli-harness.js';
import {
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
} from '../support/databases.js';
import { createShopDatabase } from '../support/shop-fixture.js';

describe('devsnap CLI', () => {
  let emptyStore: string;
  beforeAll(async () => {
    emptyStore = await mkdtemp(join(tmpdir(), 'devsnap-cli-empty-'));
  });
  afterAll(async () => {
    await rm(emptyStore, { recursive: true, force: true });
  });

  it('explains itself in --help, including every reset mode and the exit codes', async () => {
    const top = await runDevsnap(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/export \[options\]\s+Read the source database/);
    expect(top.stdout).toMatch(/Exit codes: 0 ok/);
    const help = await runDevsnap(['import', '--help']);
    expect(help.code).toBe(0);
    for (const mode of ['drop-database', 'drop-tables', 'none']) expect(help.stdout).toContain(`  ${mode} `);
    expect(help.stdout).toContain('--yes');
  });

  it('rejects an unknown reset mode with exit code 2 and the choices', async () => {
    const run = await runDevsnap([
      'import',
      '--store',
      emptyStore,
      '--database-url',
      'postgres://x/y',
      '--reset-mode',
      'wipe',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/'wipe' is invalid.*drop-database, drop-tables, none/s);
  });

  it('names the missing option', async () => {
    const run = await runDevsnap(['export', '--database-url', 'postgres://x/y']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'devsnap: No snapshot store given.\n  Pass --store DIR or --store s3://bucket/prefix (or set DEVSNAP_STORE), e.g. --store ./snapshots.\n',
    );
  });

  it('says there is nothing to import from an empty store (exit 4), as text and as JSON', async () => {
    const run = await runDevsnap([
      'import',
      '--store',
      emptyStore,
      '--database-url',
      'postgres://localhost/dev',
    ]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /There is no snapshot in .*devsnap-cli-empty-.*\n {2}Run `devsnap export` first/,
    );
    const json = await runDevsnap([
      'import',
      '--json',
      '--store',
      emptyStore,
      '--database-url',
      'postgres://localhost/dev',
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { name: 'StoreError', exitCode: 4 } });
    const list = await runDevsnap(['list', '--store', emptyStore]);
    expect(list.stdout).toMatch(/No snapshots in/);
  });

  it('reports an unreachable server in one line with exit code 3 and no password', async () => {
    const port = await freePort();
    const run = await spawnDevsnap([
      'export',
      '--database-url',
      `postgres://me:s3cret@127.0.0.1:${port}/app`,
      '--store',
      emptyStore,
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `Could not connect to postgres://me:***@127.0.0.1:${port}/app: the connection was refused`,
    );
    expect(run.stderr).not.toContain('s3cret');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await runDevsnap(['list', '--store', emptyStore])).toMatchObject({ code: 0 });
  });

  it('refuses to import into a database that is not on this machine unless --allow-remote', async () => {
    const run = await runDevsnap([
      'import',
      '--store',
      emptyStore,
      '--database-url',
      'postgres://me:pw@prod.example.com/app',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'devsnap: Refusing to import into postgres://me:***@prod.example.com/app: it is not on this machine, and an import replaces data.\n' +
        '  Pass --allow-remote if this really is a development database.\n',
    );
    const allowed = await runDevsnap([
      'import',
      '--allow-remote',
      '--store',
      emptyStore,
      '--database-url',
      'postgres://prod.example.com/app',
    ]);
    expect(allowed.code).toBe(4);
  });

  it('rejects a database URL that is not one', async () => {
    const run = await runDevsnap(['export', '--database-url', 'localhost:5432', '--store', emptyStore]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/must start with postgres:\/\//);
  });

  describe('against a real database', () => {
    let source: TestDatabase;
    let store: string;
    let config: string;
    beforeAll(async () => {
      source = await createShopDatabase('cli_src');
      store = await mkdtemp(join(tmpdir(), 'devsnap-cli-store-'));
      // Tests the CLI, not anonymisation: personal columns go through as they are (warn mode).
      config = join(store, 'devsnap.config.mjs');
      await writeFile(config, "export default { anonymise: { mode: 'warn' } };\n");
    });
    afterAll(async () => {
      await source.drop();
      await rm(store, { recursive: true, force: true });
    });

    it('exports, lists, inspects and imports with --json, and refuses to replace without --yes', async () => {
      const exported = await runDevsnap([
        'export',
        '--database-url',
        source.url,
        '--store',
        store,
        '--config',
        config,
        '--json',
      ]);
      expect(exported.code).toBe(0);
      const result = JSON.parse(exported.stdout);
      expect(result).toMatchObject({ ok: true, command: 'export', totalRows: 2951 });
      expect(exported.stderr).toBe('');

      const listed = await runDevsnap(['list', '--store', store, '--json']);
      expect(JSON.parse(listed.stdout).snapshots).toEqual([
        expect.objectContaining({ snapshotId: result.snapshotId, latest: true, rows: 2951, tables: 6 }),
      ]);
      const inspected = await runDevsnap(['inspect', result.snapshotId.slice(0, 10), '--store', store]);
      expect(inspected.stdout).toMatch(/public\.events \(\+2 partitions\)\s+400/);

      const target = uniqueDatabaseName('cli_dst');
      await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
      try {
        const refused = await runDevsnap(['import', '--store', store, '--database-url', serverUrl(target)]);
        expect(refused.code).toBe(6);
        expect(refused.stderr).toMatch(/No terminal to confirm on\.\n {2}Pass --yes/);
        const declined = await runDevsnap(['import', '--store', store, '--database-url', serverUrl(target)], {
          answers: ['n'],
        });
        expect(declined.code).toBe(6);
        const imported = await runDevsnap([
          'import',
          '--store',
          store,
          '--database-url',
          serverUrl(target),
          '--yes',
          '--json',
        ]);
        expect(imported.code).toBe(0);
        expect(JSON.parse(imported.stdout)).toMatchObject({
          ok: true,
          resetMode: 'drop-database',
          totalRows: 2951,
        });
      } finally {
        await dropDatabase(target);
      }
    });
  });
});
