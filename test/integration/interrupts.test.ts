import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import {
  databasesLike,
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../support/databases.js';
import { type TemporaryStore, tableFingerprints, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/devsnap.js');

interface Interrupted {
  readonly code: number | null;
  readonly stderr: string;
  /** The progress line the signal was sent after. */
  readonly at: string;
}

/** Runs the CLI and sends `signal` right after it prints a progress line matching `point`. */
function interruptedAt(args: readonly string[], point: RegExp, signal: NodeJS.Signals): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let at = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const line = stderr.split('\n').find((candidate) => point.test(candidate));
      if (!at && line) {
        at = line;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, at }));
  });
}

describe('Ctrl-C and SIGTERM: one line, what this run created removed, exit 130', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let target: string;
  let config: string;

  beforeAll(async () => {
    source = await createShopDatabase('intr_src');
    // Large enough that the load and the export are still running when the signal lands.
    await source.client.query(
      'CREATE TABLE public.bulk AS SELECT g AS id, repeat(md5(g::text), 8) AS body FROM generate_series(1, 200000) g',
    );
    store = await temporaryStore();
    // Tests interrupts, not anonymisation: personal columns go through as they are (warn mode).
    config = join(await mkdtemp(join(tmpdir(), 'devsnap-intr-')), 'devsnap.config.mjs');
    await writeFile(config, "export default { anonymise: { mode: 'warn' } };\n");
    await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } });
    target = uniqueDatabaseName('intr_dst');
    await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: async () => true });
    await withDatabase(target, (client) => client.query('DELETE FROM public.bulk WHERE id > 10'));
  });
  afterAll(async () => {
    await dropDatabase(target);
    await source.drop();
    await store.remove();
    await rm(dirname(config), { recursive: true, force: true });
  });

  const importArgs = (...extra: string[]) => [
    'import',
    '--yes',
    '--store',
    store.location,
    '--database-url',
    serverUrl(target),
    ...extra,
  ];

  it('drop-database: removes the database it was building and leaves yours as it was', async () => {
    const before = await withDatabase(target, tableFingerprints);
    const run = await interruptedAt(importArgs(), /^• schema: pre-data/, 'SIGINT');
    const building = /^• create: (\S+)/m.exec(run.stderr)?.[1];
    expect(building).toMatch(new RegExp(`^${target}__devsnap_new_[0-9a-f]{6}$`));
    expect(run.code).toBe(130);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(
      `devsnap: interrupted (SIGINT); removed the unfinished database "${building}"; "${target}" is unchanged.`,
    );
    expect(await databasesLike(target)).toEqual([target, `${target}__devsnap_template`]);
    expect(await withDatabase(target, tableFingerprints)).toEqual(before);
  });

  it('drop-tables: rolls the transaction back (SIGTERM)', async () => {
    const before = await withDatabase(target, tableFingerprints);
    const run = await interruptedAt(
      importArgs('--reset-mode', 'drop-tables'),
      /^• schema: pre-data/,
      'SIGTERM',
    );
    expect(run.code).toBe(130);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(
      `devsnap: interrupted (SIGTERM); rolled back; "${target}" is unchanged.`,
    );
    expect(await withDatabase(target, tableFingerprints)).toEqual(before);
  });

  it('export: removes the incomplete snapshot folder and leaves latest alone', async () => {
    const latest = await store.readText('latest.json');
    const keys = await store.list('');
    const run = await interruptedAt(
      ['export', '--database-url', source.url, '--store', store.location, '--config', config],
      /^ {2}✓ /,
      'SIGINT',
    );
    expect(run.code).toBe(130);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(
        `^devsnap: interrupted \\(SIGINT\\); removed the incomplete snapshot \\d{8}T\\d{6}Z-[0-9a-f]+ from ${store.location}\\.$`,
      ),
    );
    expect(await store.readText('latest.json')).toBe(latest);
    expect(await store.list('')).toEqual(keys);
  });
});
