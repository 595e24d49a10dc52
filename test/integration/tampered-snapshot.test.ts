import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotIntegrityError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { LATEST_KEY, manifestKey } from '../../core/manifest.js';
import { textSha256 } from '../../core/store/file-digest.js';
import type { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import { runDevsnap } from '../support/cli-harness.js';
import {
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
} from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const yes = async () => true;

/** Roles an injected statement would create are named so; other test files' roles are not ours to watch. */
const INJECTED_ROLE = 'devsnap_tamper_role';

/**
 * What an import could change on the server: databases named after the target (the target, or a
 * work database beside it), injected roles, ALTER SYSTEM settings. Other test files run beside this
 * one on the same server, so their databases and roles are left out.
 */
async function serverState(target: string) {
  return withAdmin(async (admin) => ({
    databases: (
      await admin.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1', [target])
    ).rows.map((row) => row.datname),
    roles: (
      await admin.query('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY 1', [
        INJECTED_ROLE,
      ])
    ).rows.map((row) => row.rolname),
    autoConf: (
      await admin.query(`SELECT count(*)::int AS n FROM pg_file_settings WHERE sourcefile LIKE '%.auto.conf'`)
    ).rows[0]?.n,
  }));
}

/**
 * Tampered snapshots, built from a real export and resealed (checksums recomputed) where the
 * attack needs it: each is refused before any database is touched, and nothing happens on the
 * server or the machine — no database, no rows, no role, no file the injected command would write.
 */
describe('a tampered snapshot is refused before any database is touched', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let snapshotId: string;
  let target: string;
  let scratch: string;
  let marker: string;

  beforeAll(async () => {
    source = await createShopDatabase('tamper_src');
    store = await temporaryStore();
    snapshotId = (
      await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } })
    ).snapshotId;
    target = uniqueDatabaseName('tamper_dst');
    scratch = await mkdtemp(join(tmpdir(), 'devsnap-tamper-'));
    marker = join(scratch, 'pwned');
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
    await dropDatabase(target);
    await rm(scratch, { recursive: true, force: true });
  });

  /** A copy of the good store, edited by `tamper`, with latest.json resealed over the new manifest. */
  async function tampered(tamper: (copy: LocalDirectoryStore) => Promise<void>): Promise<TemporaryStore> {
    const copy = await temporaryStore();
    await cp(store.location, copy.location, { recursive: true });
    await tamper(copy);
    const manifestText = await readFile(copy.localPath(manifestKey(snapshotId)), 'utf8');
    const latest = JSON.parse(await readFile(copy.localPath(LATEST_KEY), 'utf8'));
    latest.manifestSha256 = textSha256(manifestText);
    await writeFile(copy.localPath(LATEST_KEY), JSON.stringify(latest));
    return copy;
  }

  async function editManifest(copy: LocalDirectoryStore, edit: (manifest: Record<string, unknown>) => void) {
    const path = copy.localPath(manifestKey(snapshotId));
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    edit(manifest);
    await writeFile(path, JSON.stringify(manifest, null, 2));
  }

  /** Imports `copy` and expects a refusal matching `message`, with the server and disk unchanged. */
  async function expectRefused(copy: TemporaryStore, message: RegExp): Promise<void> {
    const before = await serverState(target);
    try {
      const error = await importSnapshot({ databaseUrl: serverUrl(target), store: copy, confirm: yes }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SnapshotIntegrityError);
      expect((error as Error).message).toMatch(message);
      expect(await serverState(target)).toEqual(before);
      expect(before.databases).toEqual([]);
      await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await copy.remove();
    }
  }

  it('an injected manifest field', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        manifest.postImport = `COPY (SELECT 1) TO PROGRAM 'touch ${marker}'`;
      }),
    );
    await expectRefused(
      copy,
      /is not a valid devsnap manifest:\n {2}\(root\): Unrecognized key: "postImport"/,
    );
  });

  it('SQL in a sequence position (the lastValue and start holes)', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        const [sequence] = manifest.sequences as { lastValue: string | null; start: string }[];
        sequence!.lastValue = `1::numeric); COPY (SELECT 1) TO PROGRAM 'touch ${marker}'; SELECT (1`;
        sequence!.start = `1); COPY (SELECT 1) TO PROGRAM 'touch ${marker}'; --`;
      }),
    );
    await expectRefused(
      copy,
      /sequences\.0\.start: not a whole number[\s\S]*sequences\.0\.lastValue: not a whole/,
    );
  });

  it('a data file key that climbs out of the snapshot folder', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        const [table] = manifest.tables as { files: { key: string }[] }[];
        table!.files[0]!.key = `snapshots/${snapshotId}/data/../../../../etc/passwd`;
      }),
    );
    await expectRefused(copy, /tables\.0\.files\.0\.key: ".*etc\/passwd" is not a file of snapshot/);
  });

  it('through the CLI: one clear line, exit code 5, no stack trace', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        manifest.postImport = 'x';
      }),
    );
    try {
      const run = await runDevsnap([
        'import',
        '--yes',
        '--store',
        copy.location,
        '--database-url',
        serverUrl(target),
      ]);
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/^devsnap: .*manifest\.json is not a valid devsnap manifest:/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).toBe('');
    } finally {
      await copy.remove();
    }
  });
});
