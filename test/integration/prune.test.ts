import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { IMPORT_LOCK } from '../../core/import/pg-admin.js';
import { newSnapshotId } from '../../core/manifest.js';
import type { SnapshotStore } from '../../core/store/snapshot-store.js';
import { runDevsnap } from '../support/cli-harness.js';
import {
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
} from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { setEnvironment } from '../support/process-environment.js';
import { startS3Server } from '../support/s3-server.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const OLD_A = '20200101T000000Z-aaaaaa';
const OLD_B = '20200102T000000Z-bbbbbb';
const ABANDONED = '20200103T000000Z-cccccc';

/** Two old complete snapshots, an abandoned partial folder and one an export may still be writing. */
async function addHistory(store: SnapshotStore): Promise<string> {
  for (const id of [OLD_A, OLD_B]) await store.put(`snapshots/${id}/manifest.json`, '{}');
  await store.put(`snapshots/${ABANDONED}/data/public.users/part-00000.parquet`, 'partial');
  const running = newSnapshotId();
  await store.put(`snapshots/${running}/data/public.users/part-00000.parquet`, 'partial');
  return running;
}

async function snapshotIds(store: SnapshotStore): Promise<string[]> {
  return [...new Set((await store.list('snapshots/')).map((key) => key.split('/')[1] as string))].sort();
}

describe('devsnap prune', () => {
  let source: TestDatabase;
  let latest: string;
  let store: TemporaryStore;

  beforeAll(async () => {
    source = await createShopDatabase('prune_src');
    store = await temporaryStore();
    latest = (
      await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } })
    ).snapshotId;
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });

  it('removes abandoned folders, then snapshots beyond --keep, never latest or a running export', async () => {
    const running = await addHistory(store);
    const leftovers = await runDevsnap(['prune', '--store', store.location]);
    expect(leftovers).toMatchObject({ code: 0, stderr: '' });
    expect(leftovers.stdout).toBe(
      `Removed 1 snapshot folder(s): ${ABANDONED}.\nKept 3; latest is ${latest}.\n`,
    );
    expect(await snapshotIds(store)).toEqual([OLD_A, OLD_B, latest, running].sort());

    const unconfirmed = await runDevsnap(['prune', '--store', store.location, '--keep', '1']);
    expect(unconfirmed.code).toBe(6);
    expect(unconfirmed.stderr).toBe(
      `devsnap: This deletes 2 snapshot(s) from ${store.location}: ${OLD_B}, ${OLD_A}. No terminal to confirm on.\n` +
        '  Pass --yes to confirm in scripts, or --dry-run to only list them.\n',
    );
    expect(await snapshotIds(store)).toEqual([OLD_A, OLD_B, latest, running].sort());

    const pruned = await runDevsnap(['prune', '--store', store.location, '--keep', '1', '--yes', '--json']);
    expect(JSON.parse(pruned.stdout)).toEqual({
      ok: true,
      command: 'prune',
      dryRun: false,
      snapshots: [OLD_B, OLD_A],
      kept: [latest],
      latest,
      databases: [],
    });
    expect(await snapshotIds(store)).toEqual([latest, running].sort());
    await store.deletePrefix(`snapshots/${running}/`);
  });

  it('works the same on S3, and --dry-run deletes nothing', async () => {
    const s3 = await startS3Server();
    const restoreEnv = s3.useEnvironment();
    try {
      const remote = s3.store();
      const id = (
        await exportSnapshot({
          databaseUrl: source.url,
          store: remote,
          config: { anonymise: { mode: 'warn' } },
        })
      ).snapshotId;
      await addHistory(remote);
      const env = { DEVSNAP_S3_ENDPOINT: s3.endpoint };
      const before = await snapshotIds(remote);
      const dry = await runDevsnap(['prune', '--store', remote.location, '--keep', '1', '--dry-run'], {
        env,
      });
      expect(dry.stdout, dry.stderr).toMatch(
        new RegExp(`^Would remove 3 snapshot folder\\(s\\): ${OLD_B}, ${OLD_A}, ${ABANDONED}\\.$`, 'm'),
      );
      expect(await snapshotIds(remote)).toEqual(before);
      const run = await runDevsnap(['prune', '--store', remote.location, '--keep', '1', '--yes'], { env });
      expect(run.code).toBe(0);
      expect(await snapshotIds(remote)).toEqual(
        before.filter((key) => ![OLD_A, OLD_B, ABANDONED].includes(key)),
      );
      expect(await snapshotIds(remote)).toContain(id);
    } finally {
      restoreEnv();
      await s3.stop();
    }
  });

  it('doctor reports work databases left by a killed import, and prune removes them', async () => {
    const target = uniqueDatabaseName('prune_dst');
    const leftover = `${target}__devsnap_new_0a1b2c`;
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${leftover}`));
    const cache = await mkdtemp(join(tmpdir(), 'devsnap-prune-cache-'));
    try {
      const doctor = await runDevsnap(['doctor', '--database-url', serverUrl(target), '--cache-dir', cache]);
      expect(doctor.stdout).toMatch(
        new RegExp(
          `^! leftovers: left by interrupted runs: 1 work database\\(s\\) \\(${leftover}\\)\\n {4}→ Remove them with: devsnap prune --database-url postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/${target}$`,
          'm',
        ),
      );
      expect(doctor.stdout).not.toContain(':postgres@');
      const pruned = await runDevsnap(['prune', '--database-url', serverUrl(target), '--json']);
      expect(JSON.parse(pruned.stdout).databases).toEqual([leftover]);
      const remaining = await withAdmin(
        async (admin) => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [leftover])).rows,
      );
      expect(remaining).toEqual([]);
    } finally {
      await dropDatabase(leftover);
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('leaves work databases alone while an import holds the server, and doctor and prune say so', async () => {
    const target = uniqueDatabaseName('prune_busy');
    const leftover = `${target}__devsnap_new_0d0e0f`;
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${leftover}`));
    const cache = await mkdtemp(join(tmpdir(), 'devsnap-prune-cache-'));
    // Waits for the lock as long as the tests let imports wait; here it must give up at once.
    const restoreEnv = setEnvironment({ DEVSNAP_IMPORT_LOCK_WAIT_MS: '0' });
    try {
      await withAdmin(async (holder) => {
        // Another import (this session) holds the server's import lock.
        await holder.query('SELECT pg_advisory_lock($1, $2)', [IMPORT_LOCK.classId, IMPORT_LOCK.objectId]);
        const doctor = await runDevsnap([
          'doctor',
          '--database-url',
          serverUrl(target),
          '--cache-dir',
          cache,
        ]);
        expect(doctor.stdout).toMatch(
          /^- leftovers: work databases not checked: an import is running on this server; its work databases stay$/m,
        );
        const pruned = await runDevsnap(['prune', '--database-url', serverUrl(target), '--json']);
        expect(JSON.parse(pruned.stdout)).toMatchObject({
          databases: [],
          databasesSkipped: 'an import is running on this server; its work databases stay',
        });
      });
      const remaining = await withAdmin(
        async (admin) =>
          (await admin.query('SELECT 1 AS n FROM pg_database WHERE datname = $1', [leftover])).rows,
      );
      expect(remaining).toEqual([{ n: 1 }]);
    } finally {
      restoreEnv();
      await dropDatabase(leftover);
      await rm(cache, { recursive: true, force: true });
    }
  });
});
