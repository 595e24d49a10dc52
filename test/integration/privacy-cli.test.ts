import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevsnap } from '../support/cli-harness.js';
import {
  createTestDatabase,
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
} from '../support/databases.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { DEVSNAP_SECRET: 'H8kq2Vx0Zr5mTn7Lw1Pb4Yd9Jc3Fg6Us0Ae2Ri5Ko8Mt1Nw4Xe7Vj0Sl3Dq6Bh9' };

describe('privacy at the command line: weak secrets, unknown detectors, relaxed snapshots', () => {
  let source: TestDatabase;
  let store: string;
  let configDir: string;

  /** A config file inside the repository (so `devsnap/strategies` resolves); .devsnap/ is gitignored. */
  const config = async (name: string, body: string): Promise<string> => {
    const file = join(configDir, `${name}.config.ts`);
    await writeFile(file, `import { keep, scrub } from 'devsnap/strategies';\nexport default ${body};\n`);
    return file;
  };

  /** `devsnap import [snapshot] --yes` into a new database of the test server. */
  const importInto = (target: string, ...snapshot: string[]) =>
    runDevsnap(['import', ...snapshot, '--store', store, '--database-url', serverUrl(target), '--yes']);

  beforeAll(async () => {
    source = await createTestDatabase('privacy_cli');
    await source.client.query(`
      CREATE TABLE public.notes (id integer PRIMARY KEY, body text NOT NULL);
      INSERT INTO public.notes SELECT g, 'Note ' || g || ' for the team' FROM generate_series(1, 50) g;
      INSERT INTO public.notes VALUES (51, 'Call Jane Smith on +44 20 7946 0958');
    `);
    store = await mkdtemp(join(tmpdir(), 'devsnap-privacy-cli-'));
    configDir = join(ROOT, '.devsnap', `test-privacy-${randomBytes(4).toString('hex')}`);
    await mkdir(configDir, { recursive: true });
  });
  afterAll(async () => {
    await source.drop();
    await rm(store, { recursive: true, force: true });
    await rm(configDir, { recursive: true, force: true });
  });

  it('refuses a weak secret with one line, the command that makes a good one, exit 2 and nothing written', async () => {
    const run = await runDevsnap(['export', '--database-url', source.url, '--store', store], {
      env: { DEVSNAP_SECRET: 'hunter2' },
    });
    expect(run.code).toBe(2);
    // After the progress lines: the error, and what to do.
    expect(run.stderr.slice(run.stderr.indexOf('devsnap: '))).toBe(
      'devsnap: The anonymisation secret (env DEVSNAP_SECRET) is 7 bytes long; it needs at least 32: fakes made with it could be reversed by trying candidate values.\n' +
        '  Make one with `openssl rand -base64 48`, store it (an environment variable or Secrets Manager) and keep it the same between runs.\n',
    );
    expect(run.stderr).not.toContain('hunter2');
    expect(await readdir(store)).toEqual([]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an unknown detector in allow with one line and a did-you-mean, exit 2', async () => {
    const file = await config(
      'typo',
      "{ anonymise: { rules: { 'public.notes.body': keep('team notes', { allow: ['person_name'] }) } } }",
    );
    const run = await runDevsnap(
      ['export', '--database-url', source.url, '--store', store, '--config', file],
      { env },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'rules.public.notes.body (public.notes.body): keep(): unknown detector "person_name" in allow (did you mean "person-name"?); detectors are email, phone, payment-card, iban, national-id, ip-address, street-address, person-name',
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('scrubs free text: the export publishes the note with the name and phone replaced', async () => {
    const file = await config('scrubbed', "{ anonymise: { rules: { 'public.notes.body': scrub() } } }");
    const run = await runDevsnap(
      ['export', '--database-url', source.url, '--store', store, '--config', file, '--json'],
      { env },
    );
    expect(run.code).toBe(0);
    const target = uniqueDatabaseName('privacy_cli_dst');
    try {
      const imported = await importInto(target);
      expect(imported.code).toBe(0);
      const { withDatabase } = await import('../support/databases.js');
      const body = await withDatabase(target, async (client) => {
        const { rows } = await client.query<{ body: string }>('SELECT body FROM public.notes WHERE id = 51');
        return rows[0]?.body ?? '';
      });
      expect(body).toMatch(/^Call \p{Lu}\p{L}+ \p{Lu}[\p{L}' -]+ on \+/u);
      expect(body).not.toMatch(/Jane|Smith|7946/);
    } finally {
      await dropDatabase(target);
    }
  });

  it('records a relaxed export, and inspect and import warn about it', async () => {
    const file = await config(
      'relaxed',
      "{ anonymise: { mode: 'warn', reason: 'trial on the staging copy' } }",
    );
    const exported = await runDevsnap(
      ['export', '--database-url', source.url, '--store', store, '--config', file, '--json'],
      { env },
    );
    expect(exported.code).toBe(0);
    const { snapshotId } = JSON.parse(exported.stdout) as { snapshotId: string };
    const warning = `Snapshot ${snapshotId} was exported with relaxed anonymisation (mode: warn: personal-looking columns without a rule, and values in which verification found personal data, were published as they are), because: trial on the staging copy. It may hold personal data: keep it off shared machines.`;

    const inspected = await runDevsnap(['inspect', snapshotId, '--store', store]);
    expect(inspected.stdout).toContain(`Warning: ${warning}`);
    const json = await runDevsnap(['inspect', snapshotId, '--store', store, '--json']);
    expect(json.stderr).toContain(`warning: ${warning}`);
    expect(JSON.parse(json.stdout).manifest.anonymisation).toMatchObject({
      mode: 'warn',
      verification: 'every-value',
      relaxations: [{ setting: 'mode: warn', reason: 'trial on the staging copy' }],
    });

    const target = uniqueDatabaseName('privacy_cli_relaxed');
    try {
      const imported = await importInto(target, snapshotId);
      expect(imported.code).toBe(0);
      expect(imported.stderr).toContain(warning);
    } finally {
      await dropDatabase(target);
    }
  });
});
