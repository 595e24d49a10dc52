import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import {
  dropDatabase,
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
import { S3RVER_CREDENTIALS, startS3Server } from '../support/s3-server.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/devsnap.js');

/** Progress lines of `devsnap import` (stderr, no terminal) after which the process is killed. */
const KILL_POINTS: readonly RegExp[] = [
  /^• verify/,
  /^• import: drop-database/,
  /^• create: /,
  /^• schema: pre-data/,
  /^ {2}✓ Billing\.Invoice Lines/,
  /^ {2}✓ public\.order_items/,
  /^ {2}✓ public\.shipments/,
  /^• schema: post-data/,
  /^• sequences/,
  /^• check: row counts/,
  /^• swap: /,
];

/** How long the CLI takes to start on this machine now: a busy machine starts it several times slower. */
async function measureStartup(): Promise<number> {
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--version'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', resolve);
  });
  return performance.now() - started;
}

/** Budget for one killed import: a few start-ups' worth on top of the import itself. */
const KILL_RUN_TIMEOUT_MS = 30_000 + 20 * (await measureStartup());

/** Runs `devsnap import` and SIGKILLs it right after it prints a line matching `point`. */
function importKilledAt(
  point: RegExp,
  store: string,
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'import', '--yes', '--store', store, '--database-url', url], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!killed && stderr.split('\n').some((line) => point.test(line))) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve({ killed, stderr }));
  });
}

function fingerprintsOf(database: string): Promise<Record<string, TableFingerprint>> {
  return withDatabase(database, tableFingerprints);
}

describe('an import killed at any point leaves the current database intact', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let target: string;
  let oldRows: Record<string, TableFingerprint>;
  let newRows: Record<string, TableFingerprint>;

  beforeAll(async () => {
    source = await createShopDatabase('kill_src');
    store = await temporaryStore();
    // This test is about the import's safety, not anonymisation: export the fixture as it is.
    await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } });
    newRows = await tableFingerprints(source.client);
    // The developer's current database: the same shop with some changes of their own.
    target = uniqueDatabaseName('kill_dst');
    await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: async () => true });
    await withDatabase(target, async (client) => {
      await client.query(
        `CREATE TABLE public.my_work (note text); INSERT INTO public.my_work VALUES ('unsaved idea')`,
      );
      await client.query('DELETE FROM public.shipments WHERE id > 100');
    });
    oldRows = await fingerprintsOf(target);
  });
  afterAll(async () => {
    await dropDatabase(target);
    await source.drop();
    await store.remove();
  });

  // One test per kill point, each with its own time budget, so a slow start on a busy machine
  // cannot add up across eleven runs; the points are reached in order, the swap last.
  const outcomes: string[] = [];
  for (const point of KILL_POINTS) {
    it(
      `killed right after "${point.source}" leaves the old database${point.source.includes('swap') ? ' or the complete new one' : ''}`,
      async () => {
        const { killed, stderr } = await importKilledAt(point, store.location, serverUrl(target));
        expect({ point: point.source, killed }, stderr).toEqual({ point: point.source, killed: true });
        const now = await fingerprintsOf(target);
        // Killed before the swap committed: the old database, untouched. Killed inside the swap:
        // either the old one or the complete new one, never anything in between.
        const state =
          JSON.stringify(now) === JSON.stringify(oldRows)
            ? 'old'
            : JSON.stringify(now) === JSON.stringify(newRows)
              ? 'new'
              : 'broken';
        outcomes.push(`${point.source}: ${state}`);
        if (point.source.includes('swap')) expect(state).not.toBe('broken');
        else expect(state).toBe('old');
      },
      KILL_RUN_TIMEOUT_MS,
    );
  }

  it('the next import cleans up what the kills left and succeeds', async () => {
    expect(outcomes.filter((outcome) => outcome.endsWith('old')).length).toBeGreaterThanOrEqual(10);
    await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: async () => true });
    expect(await fingerprintsOf(target)).toEqual(newRows);
    const databases = await withAdmin(
      async (admin) =>
        (
          await admin.query<{ datname: string }>(
            'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
            [target],
          )
        ).rows,
    );
    // Only the database and the template `devsnap reset` restores from.
    expect(databases.map((row) => row.datname).sort()).toEqual([target, `${target}__devsnap_template`]);
  });

  it('survives being killed while downloading from S3, and the next import resumes the download', async () => {
    const s3 = await startS3Server();
    const cache = await mkdtemp(join(tmpdir(), 'devsnap-kill-cache-'));
    try {
      const remote = s3.store();
      await exportSnapshot({
        databaseUrl: source.url,
        store: remote,
        config: { anonymise: { mode: 'warn' } },
      });
      const before = await fingerprintsOf(target);
      const env = {
        ...process.env,
        DEVSNAP_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
        DEVSNAP_CACHE_DIR: cache,
      };
      const { killed, stderr } = await importKilledAt(/^• pull: /, remote.location, serverUrl(target), env);
      expect({ killed }, stderr).toEqual({ killed: true });
      expect(await fingerprintsOf(target)).toEqual(before);
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store: remote,
        cacheDirectory: cache,
        confirm: async () => true,
      });
      expect(await fingerprintsOf(target)).toEqual(newRows);
    } finally {
      await s3.stop();
      await rm(cache, { recursive: true, force: true });
    }
  });
});
