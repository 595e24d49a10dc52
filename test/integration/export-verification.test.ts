import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { PersonalDataFoundError } from '../../core/anonymise/personal-data-found-error.js';
import { PersonalDataError } from '../../core/anonymise/personal-data-gate.js';
import { UsageError } from '../../core/errors.js';
import { beginExport } from '../../core/export/begin-export.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { exportTables } from '../../core/export/export-tables.js';
import { finalizeExport } from '../../core/export/finalize-export.js';
import { PgSource } from '../../core/source/pg-source.js';
import { djangoSerialized, fake, jsonPaths, keep } from '../../strategies/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { readManifest, snapshotRows } from '../support/snapshot-values.js';

const env = { DEVSNAP_SECRET: 'Verification-test-secret:7f3a9c2e51d84b06c1e0a9d27b44f5e8' };
const ROWS = 10_000;

/** Every key under the store's snapshots, and latest.json. */
async function storeState(store: TemporaryStore) {
  return { keys: (await store.list('')).sort(), latest: await store.readText('latest.json') };
}

describe('export-time verification', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let before: Awaited<ReturnType<typeof storeState>>;

  /** A strict export of the posts with these column rules. */
  const exportWith = (rules: Record<string, Anonymiser>) =>
    exportSnapshot({ databaseUrl: source.url, store, env, config: { anonymise: { rules } } });

  beforeAll(async () => {
    source = await createTestDatabase('verify');
    // 10,000 titles of free text, one of which holds an email address (row 7,777): a sample of
    // 200 misses it almost always; checking every written value never does. Labels made of ids
    // and md5 digests, prices and versions must not fire.
    await source.client.query(`
      CREATE TABLE public.posts (
        id integer PRIMARY KEY,
        title text NOT NULL,
        label text NOT NULL,
        meta jsonb
      );
      INSERT INTO public.posts
      SELECT g,
             CASE WHEN g = 7777 THEN 'Reply to jane.doe@gmail.com about the tour'
                  ELSE 'Release notes ' || g || ': version 1.' || (g % 20) || '.' || (g % 7) || ', price ' || (g % 90) || '.99 EUR' END,
             'item-' || g || '-' || md5(g::text),
             jsonb_build_object('shipping', jsonb_build_object('name', CASE WHEN g % 2500 = 0 THEN 'Jane Smith' ELSE 'Warehouse ' || (g % 9) END,
                                                               'email', 'buyer' || g || '@shop.example'),
                                'created', '2024-01-15T10:30:00Z')
      FROM generate_series(1, ${ROWS}) g;
      ANALYZE;
    `);
    store = await temporaryStore();
    // A published snapshot, so the test can see that `latest` stays on it.
    await exportWith({
      'public.posts.title': keep('test: first snapshot', { allow: ['email'] }),
      'public.posts.meta': keep('test: first snapshot', { allow: ['email', 'person-name'] }),
    });
    before = await storeState(store);
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });

  // Titles kept on purpose, so only the check of every written value stands between them and the store.
  const strictConfig = {
    anonymise: {
      rules: {
        'public.posts.title': keep('release notes are public'),
        'public.posts.meta': keep('shipping labels are test data', { allow: ['email'] }),
      },
    },
  };

  it('stops a strict export for one email among 10,000 kept titles, every run, and leaves the store as it was', async () => {
    for (let run = 0; run < 3; run++) {
      const error = await exportSnapshot({ databaseUrl: source.url, store, env, config: strictConfig }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PersonalDataFoundError);
      expect(error).toBeInstanceOf(UsageError);
      const message = (error as Error).message;
      expect(message).toContain('Nothing was published and `latest` did not move.');
      expect(message).toContain(
        `  public.posts.title: 1 of ${ROWS.toLocaleString('en-US')} values contain an email address (email), e.g. j***@g***.com\n      'public.posts.title': scrub(), // or keep("release notes are public", { allow: ['email'] }) if it may be published`,
      );
      // Inside JSON too, for every detector the rule does not allow.
      expect(message).toContain(
        "  public.posts.meta: 4 of 10,000 values contain a person's name (person-name), e.g. J*** S***\n      'public.posts.meta': scrub(), // or keep(\"shipping labels are test data\", { allow: ['email', 'person-name'] }) if it may be published",
      );
      expect(message).not.toMatch(/jane|Smith|item-|buyer/);
      expect(await storeState(store)).toEqual(before);
    }
  });

  it('stops it every run when the titles have no rule: plan and gate read the same rows each time', async () => {
    const config = {
      anonymise: { rules: { 'public.posts.meta': strictConfig.anonymise.rules['public.posts.meta'] } },
    };
    for (let run = 0; run < 3; run++) {
      const error = await exportSnapshot({ databaseUrl: source.url, store, env, config }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PersonalDataError);
      expect((error as Error).message).toContain(
        "  public.posts.title: 1 of 10000 sampled values contain an email address\n      'public.posts.title': scrub(),",
      );
      expect(await storeState(store)).toEqual(before);
    }
  });

  it('stops it the same way when tables are read by several connections (--jobs)', async () => {
    const error = await exportSnapshot({
      databaseUrl: source.url,
      store,
      env,
      config: strictConfig,
      jobs: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersonalDataFoundError);
    expect((error as Error).message).toContain(
      'public.posts.title: 1 of 10,000 values contain an email address',
    );
    expect(await storeState(store)).toEqual(before);
  });

  it('publishes what a rule allows, and records the allowance and the counts in the manifest', async () => {
    const { snapshotId } = await exportWith({
      'public.posts.title': keep('test: public release notes', { allow: ['email'] }),
      'public.posts.meta': jsonPaths(
        { '$.shipping.email': fake('internet.email') },
        { allow: ['person-name'] },
      ),
    });
    const manifest = await readManifest(store, snapshotId);
    const columns = Object.fromEntries(manifest.tables[0]?.columns.map((c) => [c.name, c.treatment]) ?? []);
    expect(columns.title).toMatchObject({
      action: 'kept',
      allow: ['email'],
      verified: { values: ROWS, hits: {} },
    });
    expect(columns.meta).toMatchObject({
      allow: ['person-name'],
      verified: { values: ROWS, hits: {} },
    });
    // Ids with md5 digests, versions, prices and dates: nothing found.
    expect(columns.label).toMatchObject({ action: 'exported', verified: { values: ROWS, hits: {} } });
    expect(columns.id?.verified).toBeUndefined();
  });

  it('the pipeline steps: a worker that finds personal data fails its part and finalize publishes nothing', async () => {
    const snapshotId = `20990101T000000Z-verify`;
    const latest = await store.readText('latest.json');
    const pg = await PgSource.connect(source.url);
    try {
      const { plan, digestKey } = await beginExport({
        source: pg,
        store,
        snapshotId,
        env,
        config: strictConfig,
      });
      const error = await exportTables({
        source: pg,
        store,
        snapshotId,
        parts: [{ table: 'public.posts', part: 0 }],
        digestKey,
        env,
        config: strictConfig,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PersonalDataFoundError);
      expect(plan.tables).toEqual(['public.posts']);
    } finally {
      await pg.close();
    }
    const result = await finalizeExport({ store, snapshotId });
    expect(result.status).toBe('failed');
    expect(result.status === 'failed' && result.failures[0]?.error).toContain(
      'public.posts.title: 1 of 10,000 values',
    );
    expect((await store.list(`snapshots/${snapshotId}/`)).sort()).toEqual([
      `snapshots/${snapshotId}/failure.json`,
    ]);
    expect(await store.readText('latest.json')).toBe(latest);
  });

  it('finalize refuses a strict snapshot whose parts carry hits, whatever wrote them', async () => {
    const snapshotId = `20990101T000001Z-verify`;
    const latest = await store.readText('latest.json');
    const pg = await PgSource.connect(source.url);
    const allowing = {
      anonymise: {
        rules: {
          'public.posts.title': keep('test', { allow: ['email'] }),
          'public.posts.meta': keep('test', { allow: ['email', 'person-name'] }),
        },
      },
    };
    try {
      const { digestKey } = await beginExport({ source: pg, store, snapshotId, env, config: allowing });
      const [result] = await exportTables({
        source: pg,
        store,
        snapshotId,
        parts: [{ table: 'public.posts', part: 0 }],
        digestKey,
        env,
        config: allowing,
      });
      // A part result altered after the worker (or written by a worker with another config).
      const key = result?.resultKey as string;
      const entry = JSON.parse((await store.readText(key)) as string);
      entry.columns[1].treatment.allow = [];
      entry.columns[1].treatment.verified.hits = { email: 1 };
      await store.put(key, JSON.stringify(entry));
    } finally {
      await pg.close();
    }
    const result = await finalizeExport({ store, snapshotId });
    expect(result.status).toBe('failed');
    expect(result.status === 'failed' && result.failures[0]).toEqual({
      table: '(finalize)',
      error:
        'refused to publish a strict snapshot holding personal data found by export-time verification: public.posts.title: 1 value with email',
    });
    expect(await store.readText('latest.json')).toBe(latest);
  });
});

describe('export-time verification of what djangoSerialized() leaves as it was', () => {
  let source: TestDatabase;
  let store: TemporaryStore;

  beforeAll(async () => {
    source = await createTestDatabase('verify_serialized');
    // Revisions of customers saved before `phone` was dropped from the model: the field has no
    // column any more, so no column rule rewrites it inside the revision.
    await source.client.query(`
      CREATE TABLE public.shop_customer (id integer PRIMARY KEY, name text NOT NULL);
      CREATE TABLE public.reversion_version (id integer PRIMARY KEY, serialized_data text NOT NULL);
      INSERT INTO public.shop_customer SELECT g, 'Customer ' || g FROM generate_series(1, 50) g;
      INSERT INTO public.reversion_version
      SELECT g, json_build_array(json_build_object('model', 'shop.customer', 'pk', g,
               'fields', json_build_object('name', 'Jane Smith', 'phone',
                 CASE WHEN g = 17 THEN '+44 20 7946 0958' ELSE 'none' END)))::text
      FROM generate_series(1, 50) g;
    `);
    store = await temporaryStore();
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });

  const config = {
    anonymise: {
      rules: {
        'public.shop_customer.name': fake('person.fullName'),
        'public.reversion_version.serialized_data': djangoSerialized(),
      },
    },
  };

  it('stops a strict export for a phone number in a field the live table no longer has, and publishes nothing', async () => {
    const error = await exportSnapshot({ databaseUrl: source.url, store, env, config }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PersonalDataFoundError);
    const message = (error as Error).message;
    expect(message).toContain(
      'public.reversion_version.serialized_data: 1 of 50 values contain a phone number (phone)',
    );
    // The names djangoSerialized() faked with the customers' rule are not findings.
    expect(message).not.toContain('person-name');
    expect(message).not.toMatch(/7946|Jane|Smith/);
    expect(await store.list('')).toEqual([]);
  });

  it('publishes once that row is gone: the fakes it wrote are not taken for personal data', async () => {
    await source.client.query(`DELETE FROM public.reversion_version WHERE id = 17`);
    const { snapshotId } = await exportSnapshot({ databaseUrl: source.url, store, env, config });
    const versions = await snapshotRows(store, snapshotId, 'public.reversion_version');
    expect(versions).toHaveLength(49);
    for (const version of versions) expect(version.serialized_data).not.toContain('Jane Smith');
  });
});
