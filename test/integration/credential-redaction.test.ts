import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CliRun, runDevsnap, spawnDevsnap } from '../support/cli-harness.js';
import type { TestDatabase } from '../support/databases.js';
import { createExportRole, type ExportRole } from '../support/export-role.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { setEnvironment } from '../support/process-environment.js';
import { startS3Server } from '../support/s3-server.js';
import { createShopDatabase } from '../support/shop-fixture.js';

/** The known password: characters that URLs encode and JSON escapes, so every spelling is tried. */
const SECRET = 'Leak-9x!p@ss:w0rd"/';
const SPELLINGS = [SECRET, encodeURIComponent(SECRET), JSON.stringify(SECRET).slice(1, -1)];
const SSL_KEY = `/tmp/${encodeURIComponent(SECRET)}-client.key`;

function expectNoSecret(text: string, where: string): void {
  for (const spelling of SPELLINGS) expect(text.includes(spelling), `${where} shows ${spelling}`).toBe(false);
  expect(text.includes(SSL_KEY), `${where} shows the sslkey path`).toBe(false);
}

function expectRunClean(run: CliRun, where: string): void {
  expectNoSecret(run.stdout, `${where}: stdout`);
  expectNoSecret(run.stderr, `${where}: stderr`);
}

/** Every file under a directory, as text (Parquet too: a value would show in its bytes). */
async function filesUnder(directory: string): Promise<Record<string, string>> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path] = (await readFile(path)).toString('latin1');
  }
  return files;
}

describe('a known password, in every credential form, is never printed, logged or stored', () => {
  let db: TestDatabase;
  let role: string;
  let exportRole: ExportRole;
  let store: TemporaryStore;
  let host: string;

  beforeAll(async () => {
    db = await createShopDatabase('leak_src');
    // A role made by devsnap's GRANT script, with the known password.
    exportRole = await createExportRole(db, 'devsnap_leak', SECRET);
    role = exportRole.name;
    const url = new URL(db.url);
    host = `${url.hostname}:${url.port}`;
    store = await temporaryStore();
  });
  afterAll(async () => {
    await db.drop();
    await store.remove();
    await exportRole?.drop();
  });

  const userinfo = (database: string) =>
    `postgres://${role}:${encodeURIComponent(SECRET)}@${host}/${database}`;
  const inQuery = (database: string) =>
    `postgres://${role}@${host}/${database}?password=${encodeURIComponent(SECRET)}`;
  const warn = ['--config', join(import.meta.dirname, '../fixtures/warn-mode.config.ts')];

  it('a successful export: stdout, stderr, --json and every file of the snapshot', {
    timeout: 300_000,
  }, async () => {
    for (const [form, url, env] of [
      ['userinfo', userinfo(db.name), {}],
      ['?password=', inQuery(db.name), {}],
      ['PGPASSWORD', `postgres://${role}@${host}/${db.name}`, { PGPASSWORD: SECRET }],
    ] as const) {
      for (const json of [[], ['--json']]) {
        const run = await spawnDevsnap(
          ['export', '--database-url', url, '--store', store.location, ...warn, ...json],
          env,
        );
        expect(run.code, `${form}: ${run.stderr}`).toBe(0);
        expectRunClean(run, `export with ${form} ${json.join('')}`);
      }
    }
    const files = await filesUnder(store.location);
    expect(Object.keys(files).some((path) => path.endsWith('manifest.json'))).toBe(true);
    for (const [path, text] of Object.entries(files)) expectNoSecret(text, path);
  });

  it('failures in export, plan and doctor, text and --json, for each form', {
    timeout: 300_000,
  }, async () => {
    const missing = `${db.name}_missing`;
    const forms: [string, string, NodeJS.ProcessEnv][] = [
      ['userinfo', userinfo(missing), {}],
      ['?password=', inQuery(missing), {}],
      [
        'sslpassword and sslkey',
        `postgres://${role}@${host}/${missing}?sslmode=require&sslpassword=${encodeURIComponent(SECRET)}&sslkey=${encodeURIComponent(SSL_KEY)}`,
        {},
      ],
      ['PGPASSWORD', `postgres://${role}@${host}/${missing}`, { PGPASSWORD: SECRET }],
      ['PGSSLPASSWORD', `postgres://${role}@${host}/${missing}?sslmode=require`, { PGSSLPASSWORD: SECRET }],
      ['DEVSNAP_DATABASE_URL', '', { DEVSNAP_DATABASE_URL: userinfo(missing) }],
    ];
    for (const [form, url, env] of forms) {
      const database = url ? ['--database-url', url] : [];
      for (const args of [
        ['export', ...database, '--store', store.location, ...warn],
        ['plan', ...database, ...warn],
        ['doctor', ...database, ...(url ? ['--source-url', url] : [])],
      ]) {
        for (const json of [[], ['--json']]) {
          // In-process for speed; the PG* variables are set on the process, where the driver reads them.
          const restore = setEnvironment(env);
          const run = await runDevsnap([...args, ...json], { env }).finally(restore);
          // doctor checks the server's maintenance database, which exists: it may pass.
          if (args[0] !== 'doctor') expect(run.code, `${form} ${args[0]}`).not.toBe(0);
          // The failure is reported (where, and why), only without the secret.
          expect(`${run.stdout}${run.stderr}`).toMatch(
            new RegExp(`${host.replaceAll('.', '\\.')}|${missing}`),
          );
          expectRunClean(run, `${args[0]} with ${form} ${json.join('')}`);
        }
      }
    }
  });

  it("the pipeline's logs and failure.json", async () => {
    const s3 = await startS3Server();
    const restoreS3 = s3.useEnvironment();
    const pipelineStore = s3.store();
    const restore = setEnvironment({
      DEVSNAP_BUCKET: s3.bucket,
      DEVSNAP_PREFIX: pipelineStore.prefix,
      DEVSNAP_SOURCE: 'pg',
      DEVSNAP_DATABASE_URL: `${userinfo(`${db.name}_missing`)}?sslpassword=${encodeURIComponent(SECRET)}`,
      DEVSNAP_CONFIG_PATH: join(import.meta.dirname, '../fixtures/warn-mode.config.ts'),
      // The warn-mode config is allowed through so that the plan reaches the (missing) database.
      DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA: 'true',
      PGPASSWORD: SECRET,
    });
    const logged: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      logged.push(String(chunk));
      return true;
    });
    try {
      const { handler } = await import('../../functions/plan-handler.js');
      await expect(handler()).rejects.toThrow(/does not exist/);
    } finally {
      write.mockRestore();
      restore();
      restoreS3();
    }
    try {
      expect(logged.join('')).toContain('"event":"plan-failed"');
      expectNoSecret(logged.join(''), 'the plan step log');
      const keys = await pipelineStore.list('snapshots/');
      const failures = keys.filter((key) => key.endsWith('failure.json'));
      expect(failures).toHaveLength(1);
      const failure = (await pipelineStore.readText(failures[0] as string)) ?? '';
      expect(failure).toContain('does not exist');
      expectNoSecret(failure, 'failure.json');
    } finally {
      await s3.stop();
    }
  });
});
