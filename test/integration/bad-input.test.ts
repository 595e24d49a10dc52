import { spawn } from 'node:child_process';
import { cp, readFile, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import type { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import type { SnapshotStore } from '../../core/store/snapshot-store.js';
import {
  databasesLike,
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

describe('bad input never touches the target database', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let target: string;
  let snapshotId: string;

  beforeAll(async () => {
    source = await createShopDatabase('bad_src');
    // A larger table so an import can be caught half-way.
    await source.client.query(
      `CREATE TABLE public.bulk AS SELECT g AS id, repeat(md5(g::text), 8) AS body FROM generate_series(1, 300000) g`,
    );
    store = await temporaryStore();
    // Tests bad input, not anonymisation: personal columns go through as they are (warn mode).
    snapshotId = (
      await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } })
    ).snapshotId;
    target = uniqueDatabaseName('bad_dst');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    await queryDatabase(target, 'CREATE TABLE precious (id int); INSERT INTO precious VALUES (1), (2)');
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
    await dropDatabase(target);
  });

  /** A copy of the good snapshot's store that a test may damage. */
  async function damagedCopy(
    damage: (store: LocalDirectoryStore) => Promise<void>,
  ): Promise<LocalDirectoryStore> {
    const copy = await temporaryStore();
    await cp(store.location, copy.location, { recursive: true });
    await damage(copy);
    return copy;
  }

  async function expectTargetUntouched(): Promise<void> {
    expect(await queryDatabase(target, 'SELECT id FROM precious ORDER BY id')).toEqual([
      { id: 1 },
      { id: 2 },
    ]);
    expect(await databasesLike(`${target}__devsnap_new`)).toEqual([]);
  }

  it('refuses a truncated Parquet file before touching the database', async () => {
    const damaged = await damagedCopy(async (copy) => {
      await truncate(copy.localPath(`snapshots/${snapshotId}/data/public.orders/part-00000.parquet`), 100);
    });
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store: damaged, confirm: yes }),
    ).rejects.toThrow(
      /part-00000\.parquet has 100 bytes but the manifest records \d+ \(truncated or replaced\)/,
    );
    await expectTargetUntouched();
  });

  it('refuses a file whose bytes changed but not its size', async () => {
    const damaged = await damagedCopy(async (copy) => {
      const path = copy.localPath(`snapshots/${snapshotId}/data/public.users/part-00000.parquet`);
      const bytes = await readFile(path);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
      await writeFile(path, bytes);
    });
    await expect(
      importSnapshot({
        databaseUrl: serverUrl(target),
        store: damaged,
        resetMode: 'drop-tables',
        confirm: yes,
      }),
    ).rejects.toThrow(/public\.users\/part-00000\.parquet does not match the sha256 in the manifest/);
    await expectTargetUntouched();
  });

  it('refuses a manifest that does not match the checksum in latest.json', async () => {
    const damaged = await damagedCopy(async (copy) => {
      const path = copy.localPath(`snapshots/${snapshotId}/manifest.json`);
      const manifest = JSON.parse(await readFile(path, 'utf8'));
      manifest.tables[0].rows += 1;
      await writeFile(path, JSON.stringify(manifest, null, 2));
    });
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store: damaged, confirm: yes }),
    ).rejects.toThrow(/manifest of snapshot .* does not match the checksum recorded in latest\.json/);
    await expectTargetUntouched();
  });

  it('refuses a truncated manifest', async () => {
    const damaged = await damagedCopy(async (copy) => {
      await truncate(copy.localPath(`snapshots/${snapshotId}/manifest.json`), 50);
    });
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store: damaged, snapshot: snapshotId, confirm: yes }),
    ).rejects.toThrow(/does not match the checksum|is not valid JSON/);
    await expectTargetUntouched();
  });

  it('names an unknown snapshot id and the ones that exist', async () => {
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store, snapshot: '1999', confirm: yes }),
    ).rejects.toThrow(/There is no snapshot 1999 in .*/);
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store, snapshot: '1999', confirm: yes }),
    ).rejects.toMatchObject({ hint: expect.stringContaining(snapshotId) });
    await expectTargetUntouched();
  });

  it('rejects an unknown reset mode before anything else', async () => {
    await expect(
      importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        resetMode: 'truncate' as 'none',
        confirm: yes,
      }),
    ).rejects.toThrow(/Unknown reset mode "truncate"\./);
    await expectTargetUntouched();
  });

  it('an export that fails half-way (disk full) leaves no files and does not move latest', async () => {
    const latestBefore = await store.readText('latest.json');
    const keysBefore = await store.list('');
    // A real disk cannot be filled on demand here, so this store fails like one (ENOSPC) on the third data file.
    let dataFiles = 0;
    const fullDisk: SnapshotStore = {
      location: store.location,
      localPath: (key) => store.localPath(key),
      readText: (key) => store.readText(key),
      list: (prefix) => store.list(prefix),
      get: (key) => store.get(key),
      deletePrefix: (prefix) => store.deletePrefix(prefix),
      async put(key, body) {
        if (key.endsWith('.parquet') && ++dataFiles === 3) {
          throw new StoreError(`Could not write ${key}: the disk is full.`, {
            cause: Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }),
          });
        }
        return store.put(key, body);
      },
    };
    await expect(
      exportSnapshot({ databaseUrl: source.url, store: fullDisk, config: { anonymise: { mode: 'warn' } } }),
    ).rejects.toThrow(/the disk is full/);
    expect(await store.readText('latest.json')).toBe(latestBefore);
    expect(await store.list('')).toEqual(keysBefore);
  });

  it('an import killed half-way leaves the database as it was, and the next import cleans up and succeeds', async () => {
    const before = await queryDatabase(target, 'SELECT id FROM precious ORDER BY id');
    const child = spawn(
      process.execPath,
      [
        join(dirname(fileURLToPath(import.meta.url)), '../../bin/devsnap.js'),
        'import',
        '--yes',
        '--store',
        store.location,
        '--database-url',
        serverUrl(target),
      ],
      { stdio: 'ignore' },
    );
    // Wait until the work database exists and the large table is being copied, then kill the import.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const building = await databasesLike(`${target}__devsnap_new_`);
      if (building.length > 0) {
        const copying = await withAdmin(
          async (admin) =>
            (
              await admin.query(
                `SELECT 1 FROM pg_stat_progress_copy p JOIN pg_database d ON d.oid = p.datid WHERE d.datname = $1`,
                [building[0]],
              )
            ).rows,
        );
        if (copying.length > 0) break;
      }
      if (Date.now() > deadline) throw new Error('the import never reached COPY');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    expect(await queryDatabase(target, 'SELECT id FROM precious ORDER BY id')).toEqual(before);
    expect((await databasesLike(`${target}__devsnap_new_`)).length).toBe(1);

    await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: yes });
    expect(await databasesLike(target)).toEqual([target, `${target}__devsnap_template`]);
    const imported = await withDatabase(target, tableFingerprints);
    expect(imported['public.bulk']?.rows).toBe(300000);
    expect(imported).toEqual(await tableFingerprints(source.client));
  });
});
