import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import {
  BCRYPT_DEVELOPMENT_PASSWORD_HASH,
  constant,
  developmentPassword,
  fake,
  hash,
  none,
  paperTrail,
} from '../../strategies/index.js';
import { cellTexts } from '../support/cell-texts.js';
import { initConfigFile, runDevsnap, runInit } from '../support/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { readManifest, snapshotRows } from '../support/snapshot-values.js';
import { runSqlScript } from '../support/sql-script.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { DEVSNAP_SECRET: randomBytes(32).toString('hex') };
/** Every personal value the fixture puts anywhere (rails-app.sql). */
const SEEDED = [
  'margaret.hollis@mailbox.test',
  'margaret.h@mailbox.test',
  'tobias.renwick@mailbox.test',
  'sso.only@mailbox.test',
  'Margaret',
  'Hollis',
  'Tobias',
  'Toby',
  'Renwick',
  'Priya',
  'Castellano',
  '$2a$12$K8GpW6Kx1o3Zq9aXbY7cUe1oVh2m3n4b5v6c7x8z9a0s1d2f3g4h5',
  '5f4dcc3b5aa765d61d8327deb882cf99',
];

const rules = {
  'public.users.email': fake('internet.email'),
  'public.users.first_name': fake('person.firstName'),
  'public.users.last_name': fake('person.lastName'),
  'public.users.encrypted_password': developmentPassword('bcrypt'),
  'public.accounts.password_digest': developmentPassword('bcrypt'),
  'public.accounts.login': fake('internet.username'),
  'public.sessions.session_id': hash({ format: 'hex' }),
  'public.versions.object': paperTrail({ unknown: constant('redacted') }),
  'public.versions.object_changes': paperTrail({ changes: true, unknown: constant('redacted') }),
};

describe('Rails presets: init recognises Rails, and paperTrail() anonymises versions with their table’s rules', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let config: Awaited<ReturnType<typeof initConfigFile>>;

  beforeAll(async () => {
    source = await createTestDatabase('rails_app');
    await runSqlScript(source.client, await readFile(join(ROOT, 'test/fixtures/rails-app.sql'), 'utf8'));
    await source.client.query('ANALYZE');
    store = await temporaryStore();
    config = await initConfigFile('test-rails');
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
    await config.remove();
  });

  it('init writes the Rails presets, each with its comment, and says it recognised Rails', async () => {
    const { code, frameworks, text } = await runInit(source.url, config.path);
    expect(code).toBe(0);
    expect(frameworks).toEqual([
      { framework: 'Rails', evidence: 'tables public.schema_migrations and public.ar_internal_metadata' },
    ]);
    expect(text).toContain("// Rails: after an import every account's password is 'devsnap'");
    expect(text).toContain(
      "      // password 'devsnap' (a fixed bcrypt hash; no production hash leaves). Empty values stay empty.\n      'public.users.encrypted_password': developmentPassword('bcrypt'),",
    );
    expect(text).toContain("'public.accounts.password_digest': developmentPassword('bcrypt'),");
    expect(text).toContain(
      "    'public.sessions': [none()], // ~1 rows; activerecord-session_store sessions; exported with no rows",
    );
    expect(text).toContain("'public.versions.object': paperTrail({ unknown: scrub() }),");
    expect(text).toContain(
      "'public.versions.object_changes': paperTrail({ changes: true, unknown: scrub() }),",
    );
    // The classifier's own suggestions stay for the columns no preset covers.
    expect(text).toContain("'public.users.first_name': fake('person.firstName'),");
    expect(text).toMatch(
      /import \{ [^}]*\bdevelopmentPassword\b[^}]*\bnone\b[^}]*\bpaperTrail\b[^}]*\bscrub\b/,
    );
    expect(text).not.toMatch(/'public\.users\.encrypted_password': hash/);
  });

  it('export with init’s config unchanged: no seeded personal value in any cell, no session rows', async () => {
    const run = await runDevsnap(
      ['export', '--database-url', source.url, '--store', store.location, '--config', config.path, '--json'],
      { env },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { snapshotId } = JSON.parse(run.stdout) as { snapshotId: string };
    const manifest = await readManifest(store, snapshotId);
    const cells: string[] = [];
    for (const table of manifest.tables) {
      for (const row of await snapshotRows(store, snapshotId, `${table.schema}.${table.name}`))
        for (const value of Object.values(row)) if (value !== null) cells.push(...cellTexts(value));
    }
    expect(manifest.tables.length).toBeGreaterThanOrEqual(6);
    expect(SEEDED.filter((value) => cells.some((cell) => cell.includes(value)))).toEqual([]);
    expect(await snapshotRows(store, snapshotId, 'public.sessions')).toEqual([]);
  });

  it('export: one bcrypt development password, no session rows, versions anonymised like their rows', async () => {
    const { snapshotId } = await exportSnapshot({
      databaseUrl: source.url,
      store,
      env,
      config: {
        tables: { 'public.sessions': [none()] },
        anonymise: { secret: { env: 'DEVSNAP_SECRET' }, rules },
      },
    });
    const users = await snapshotRows(store, snapshotId, 'public.users');
    expect(users.map((user) => user.encrypted_password)).toEqual([
      BCRYPT_DEVELOPMENT_PASSWORD_HASH,
      BCRYPT_DEVELOPMENT_PASSWORD_HASH,
      '',
    ]);
    expect(bcrypt.compareSync('devsnap', BCRYPT_DEVELOPMENT_PASSWORD_HASH)).toBe(true);
    expect((await snapshotRows(store, snapshotId, 'public.accounts'))[0]?.password_digest).toBe(
      BCRYPT_DEVELOPMENT_PASSWORD_HASH,
    );
    expect(await snapshotRows(store, snapshotId, 'public.sessions')).toEqual([]);

    const versions = await snapshotRows(store, snapshotId, 'public.versions');
    const byId = new Map(users.map((user) => [user.id, user]));
    const [first, second, legacy] = versions.map((version) => ({
      object: version.object ?? '',
      changes: version.object_changes ?? '',
    }));
    if (!first || !second || !legacy) throw new Error('three versions expected');
    const object = parseYaml(first.object, { version: '1.1' }) as Record<string, unknown>;
    // The same fakes as the live row (the record is keyed by its id), untouched attributes as they were.
    expect(object.email).toBe(byId.get('1')?.email);
    expect(object.first_name).toBe(byId.get('1')?.first_name);
    expect(object.encrypted_password).toBe(BCRYPT_DEVELOPMENT_PASSWORD_HASH);
    expect(object.admin).toBe(true);
    expect(first.object).toContain('created_at: 2024-01-03 09:00:00.000000000 Z\n');
    const changes = JSON.parse(first.changes) as Record<string, [string, string]>;
    expect(changes.email?.[1]).toBe(byId.get('1')?.email);
    expect(changes.email?.[0]).toMatch(/@example\.(com|net|org)$/);
    expect(changes.updated_at).toEqual(['2024-01-20T10:00:00.000Z', '2024-02-01T10:00:00.000Z']);
    expect(JSON.parse(second.changes).first_name[1]).toBe(byId.get('2')?.first_name);
    // A class without a table (Legacy::Invoice) gets the unknown rule on every text.
    expect(parseYaml(legacy.object, { version: '1.1' })).toEqual({
      id: 7,
      bill_to: 'redacted',
      total: 12.5,
    });

    // No seeded personal value in any cell of any table.
    const cells: string[] = [];
    for (const table of [
      'users',
      'accounts',
      'sessions',
      'versions',
      'schema_migrations',
      'ar_internal_metadata',
    ]) {
      for (const row of await snapshotRows(store, snapshotId, `public.${table}`))
        for (const value of Object.values(row)) if (value !== null) cells.push(value);
    }
    expect(SEEDED.filter((value) => cells.some((cell) => cell.includes(value)))).toEqual([]);
  });

  it('a version of a class with no table stops the export with the fix, when no unknown rule is given', async () => {
    const before = await store.readText('latest.json');
    const keysBefore = await store.list('');
    const error = await exportSnapshot({
      databaseUrl: source.url,
      store,
      env,
      config: {
        tables: { 'public.sessions': [none()] },
        anonymise: {
          secret: { env: 'DEVSNAP_SECRET' },
          rules: { ...rules, 'public.versions.object': paperTrail() },
        },
      },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      'Anonymising public.versions.object with paperTrail(): a version of Legacy::Invoice has no table here.',
    );
    expect((error as UsageError).hint).toContain(
      "paperTrail({ models: { 'Legacy::Invoice': 'schema.table' } })",
    );
    expect(await store.readText('latest.json')).toBe(before);
    expect(await store.list('')).toEqual(keysBefore);
  });
});
