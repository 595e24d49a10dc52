import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevsnap } from '../support/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { loadPersonalData } from '../support/personal-data-fixture.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { DEVSNAP_SECRET: 'cli-test-secret-1c9e77a0d3f5b28e64' };

describe('devsnap init, plan, export and inspect with anonymisation', () => {
  let source: TestDatabase;
  let store: string;
  let configDir: string;
  let configFile: string;

  beforeAll(async () => {
    source = await createTestDatabase('anon_cli');
    await loadPersonalData(source.client, 40);
    store = await mkdtemp(join(tmpdir(), 'devsnap-anon-cli-'));
    // Inside the repository, so the generated `import … from 'devsnap'` resolves (the package
    // refers to itself); .devsnap/ is gitignored.
    configDir = join(ROOT, '.devsnap', `test-init-${randomBytes(4).toString('hex')}`);
    await mkdir(configDir, { recursive: true });
    configFile = join(configDir, 'devsnap.config.ts');
  });
  afterAll(async () => {
    await source.drop();
    await rm(store, { recursive: true, force: true });
    await rm(configDir, { recursive: true, force: true });
  });

  it('init writes a starter config, lists what it flagged, and will not overwrite it without --force', async () => {
    const run = await runDevsnap(['init', '--database-url', source.url, '--out', configFile, '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: true, command: 'init', path: configFile, tables: 6 });
    expect(result.flagged).toContainEqual({
      column: 'public.customers.last_ip',
      reasons: ['type inet holds an IP address'],
    });
    const text = await readFile(configFile, 'utf8');
    expect(text).toContain("import { defineConfig } from 'devsnap';");
    expect(text).toContain("'public.customers.last_ip': fake('internet.ipv4'),");
    expect(text).not.toContain(':s3cret');

    const again = await runDevsnap(['init', '--database-url', source.url, '--out', configFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `devsnap: ${configFile} already exists.\n  Pass --force to overwrite it, or --out FILE to write somewhere else.\n`,
    );
    expect(
      (await runDevsnap(['init', '--database-url', source.url, '--out', configFile, '--force'])).code,
    ).toBe(0);
  });

  it('plan shows every personal column with its treatment before any export', async () => {
    const run = await runDevsnap(['plan', '--database-url', source.url, '--config', configFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /Anonymisation \(strict\): 18 columns anonymised, 0 kept, 0 look personal and have no rule\./,
    );
    expect(run.stdout).toMatch(
      /public\.orders\.customer_email\s+fake\(internet\.email\) \(follows its key through orders_customer_email_fkey\)\s+name looks like an email address/,
    );
  });

  it('export refuses without rules (exit 2, the gate’s list) and succeeds with the generated config; inspect shows the treatments', async () => {
    const gate = await runDevsnap(['export', '--database-url', source.url, '--store', store, '--json'], {
      env,
    });
    expect(gate.code).toBe(2);
    expect(JSON.parse(gate.stdout).error).toMatchObject({ name: 'PersonalDataError', exitCode: 2 });
    expect(JSON.parse(gate.stdout).error.message).toContain(
      "'public.customers.email': fake('internet.email'),",
    );

    const exported = await runDevsnap(
      ['export', '--database-url', source.url, '--store', store, '--config', configFile, '--json'],
      { env },
    );
    expect(exported.code).toBe(0);
    const inspected = await runDevsnap(['inspect', '--store', store]);
    expect(inspected.stdout).toContain(
      'Anonymisation (strict, secret from env, every written value verified): 18 columns anonymised, 0 kept',
    );
    expect(inspected.stdout).toMatch(
      /public\.customers\.email\s+fake\(internet\.email\)\s+name looks like an email address/,
    );
    expect(inspected.stdout).not.toContain(env.DEVSNAP_SECRET);
  });
});
