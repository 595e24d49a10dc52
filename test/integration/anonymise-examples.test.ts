import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStarterConfig } from '../../core/anonymise/starter-config.js';
import { loadConfig } from '../../core/config/config-loader.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { buildDemoDatabase } from '../../demo/demo-database.js';
import {
  createTestDatabase,
  dropDatabase,
  queryDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
} from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { readManifest } from '../support/snapshot-values.js';
import { loadPagila } from '../support/sql-script.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { DEVSNAP_SECRET: 'examples-test-secret-5b2e8f0c9a71d4e3' };

describe('the committed example configs export Pagila and the demo database in strict mode', () => {
  let pagila: TestDatabase;
  let demo: TestDatabase;
  let store: TemporaryStore;
  beforeAll(async () => {
    pagila = await createTestDatabase('ex_pagila');
    await loadPagila(pagila.client);
    demo = await createTestDatabase('ex_demo');
    await buildDemoDatabase(demo.client, { scale: 0.05 });
    store = await temporaryStore();
  });
  afterAll(async () => {
    await pagila.drop();
    await demo.drop();
    await store.remove();
  });

  it('Pagila: the config devsnap init writes passes the gate as it is, and so does the edited example', async () => {
    const generated = await generateStarterConfig(pagila.url, {
      importFrom: { core: join(ROOT, 'core/index.ts'), strategies: join(ROOT, 'strategies/index.ts') },
    });
    const directory = await mkdtemp(join(tmpdir(), 'devsnap-pagila-init-'));
    try {
      await writeFile(join(directory, 'devsnap.config.ts'), generated.text);
      const { config: starter } = await loadConfig(undefined, directory);
      const { snapshotId: starterSnapshot } = await exportSnapshot({
        databaseUrl: pagila.url,
        store,
        config: starter,
        env,
      });
      expect((await readManifest(store, starterSnapshot)).anonymisation).toMatchObject({
        mode: 'strict',
        unresolved: [],
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
    expect(generated.flagged.map((column) => column.key).sort()).toEqual([
      'public.actor.first_name',
      'public.actor.last_name',
      'public.address.address',
      'public.address.address2',
      'public.address.phone',
      'public.address.postal_code',
      'public.city.city',
      'public.customer.email',
      'public.customer.first_name',
      'public.customer.last_name',
      'public.staff.email',
      'public.staff.first_name',
      'public.staff.last_name',
      'public.staff.password',
      'public.staff.username',
    ]);
    const { config } = await loadConfig(join(ROOT, 'examples/pagila.devsnap.config.ts'));
    const { snapshotId } = await exportSnapshot({ databaseUrl: pagila.url, store, config, env });
    const manifest = await readManifest(store, snapshotId);
    expect(manifest.anonymisation).toMatchObject({ mode: 'strict', unresolved: [], keptColumns: 3 });
    const actor = manifest.tables
      .find((t) => t.name === 'actor')
      ?.columns.find((c) => c.name === 'first_name');
    expect(actor?.treatment).toMatchObject({
      action: 'kept',
      reason: 'actors are public film credits, not customers',
    });

    const target = uniqueDatabaseName('ex_pagila_dst');
    try {
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        snapshot: snapshotId,
        // Exported just now by this test; Pagila's rewards_report runs EXECUTE as SECURITY DEFINER.
        allowUncheckedFunctions: true,
        confirm: async () => true,
      });
      const [customers] = await queryDatabase<{ same: string; total: string }>(
        target,
        'SELECT count(*) FILTER (WHERE email LIKE $$%@sakilacustomer.org$$) AS same, count(*) AS total FROM customer',
      );
      expect(customers).toEqual({ same: '0', total: '599' });
    } finally {
      await dropDatabase(target);
    }
  });

  it('demo: the edited config keeps staff emails, fakes the rest, and unlinks comment authors', async () => {
    const { config } = await loadConfig(join(ROOT, 'demo/devsnap.config.ts'));
    const { snapshotId } = await exportSnapshot({ databaseUrl: demo.url, store, config, env });
    const manifest = await readManifest(store, snapshotId);
    expect(manifest.anonymisation).toMatchObject({ mode: 'strict', unresolved: [] });
    const target = uniqueDatabaseName('ex_demo_dst');
    try {
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        snapshot: snapshotId,
        confirm: async () => true,
      });
      const source = await queryDatabase<{ id: string; email: string; is_staff: boolean; user_id?: string }>(
        demo.name,
        'SELECT id, email, is_staff FROM public.users ORDER BY id',
      );
      const copy = new Map(
        (
          await queryDatabase<{ id: string; email: string }>(target, 'SELECT id, email FROM public.users')
        ).map((r) => [r.id, r.email]),
      );
      for (const user of source) {
        if (user.is_staff) expect(copy.get(user.id)).toBe(user.email);
        else expect(copy.get(user.id)).toMatch(/@example\.(com|net|org)$/);
      }
      // Comment authors point at exported users, mostly not the real author any more.
      const authors = await queryDatabase<{ id: string; user_id: string }>(
        demo.name,
        'SELECT id, user_id FROM public.comments',
      );
      const values = authors.map((r) => `(${r.id}, ${r.user_id})`).join(', ');
      const [moved] = await queryDatabase<{ moved: string; total: string }>(
        target,
        `SELECT count(*) FILTER (WHERE c.user_id <> s.user_id) AS moved, count(*) AS total
         FROM public.comments c JOIN (VALUES ${values}) AS s (id, user_id) ON s.id = c.id`,
      );
      expect(Number(moved?.total)).toBe(authors.length);
      expect(Number(moved?.moved)).toBeGreaterThan(authors.length * 0.9);
    } finally {
      await dropDatabase(target);
    }
  });
});
