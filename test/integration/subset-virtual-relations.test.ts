/**
 * Relations the database does not declare, from the config: a plain key, a composite one, a key
 * inside JSON, a text column read as an integer, and a polymorphic key whose discriminator picks
 * the parent. Each is honoured by subsetting under every policy; bad ones stop with one line.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import type { VirtualRelationConfig } from '../../core/config/virtual-relation.js';
import { SnapshotIntegrityError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { LATEST_KEY, type Manifest, manifestKey } from '../../core/manifest.js';
import type { ForeignKeyPolicy } from '../../core/subset/strategy.js';
import { sealKey } from '../../core/trust/snapshot-seal.js';
import { sealText } from '../../core/trust/write-seal.js';
import { allRows, hash, none, where } from '../../strategies/index.js';
import {
  createTestDatabase,
  dropDatabase,
  queryDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
} from '../support/databases.js';
import { temporaryStore } from '../support/fingerprints.js';
import { ids, subsetOf } from '../support/subset-selection.js';

const FIXTURE = `
  CREATE TABLE public.account (id int PRIMARY KEY, code text NOT NULL UNIQUE);
  INSERT INTO public.account SELECT g, 'A' || g FROM generate_series(1, 10) g;
  CREATE TABLE public.post (id int PRIMARY KEY, account_id int NOT NULL REFERENCES public.account (id));
  INSERT INTO public.post SELECT g, 1 + g % 10 FROM generate_series(1, 40) g;
  CREATE TABLE public.photo (id bigint PRIMARY KEY);
  INSERT INTO public.photo SELECT generate_series(1, 20);
  -- post_ref: no declared key; 999 points at nothing, NULL at nothing either.
  CREATE TABLE public.comment (id int PRIMARY KEY, post_ref int);
  INSERT INTO public.comment SELECT g, CASE WHEN g = 61 THEN 999 WHEN g = 62 THEN NULL ELSE 1 + g % 40 END
  FROM generate_series(1, 62) g;
  -- A key inside JSON, and a composite key (account_id, account_code) to account (id, code).
  CREATE TABLE public.event (id int PRIMARY KEY, payload jsonb NOT NULL, account_id int, account_code text);
  INSERT INTO public.event
  SELECT g, jsonb_build_object('meta', jsonb_build_object('account', 1 + g % 12)), 1 + g % 10,
         CASE WHEN g % 7 = 0 THEN 'X' ELSE 'A' || (1 + g % 10) END
  FROM generate_series(1, 30) g;
  -- Polymorphic, Django-admin-log style: object_id is text, kind picks the table.
  CREATE TABLE public.log (id int PRIMARY KEY, kind text, object_id text);
  INSERT INTO public.log
  SELECT g, CASE WHEN g % 2 = 0 THEN 'post' ELSE 'photo' END,
         CASE WHEN g % 9 = 0 THEN ' ' || (1 + g % 20) || ' ' WHEN g = 25 THEN 'abc' ELSE (1 + g % 20)::text END
  FROM generate_series(1, 50) g;
`;

const RELATIONS: VirtualRelationConfig[] = [
  { from: 'public.comment(post_ref)', to: 'public.post' },
  { name: 'event account', from: "public.event(payload->'meta'->>'account')", to: 'public.account(id)' },
  { from: 'public.event(account_id, account_code)', to: 'public.account(id, code)' },
  {
    name: 'log target',
    from: 'public.log(object_id::integer)',
    discriminator: 'kind',
    to: { post: 'public.post', photo: 'public.photo(id)' },
  },
];

const config = (
  tables: DevsnapConfig['tables'],
  policies: Record<string, ForeignKeyPolicy> = {},
  virtual: VirtualRelationConfig[] = RELATIONS,
): DevsnapConfig => ({
  defaultStrategy: allRows(),
  tables,
  foreignKeys: { default: 'restrict', policies },
  relations: { virtual },
});

describe('virtual relations from the config', () => {
  let db: TestDatabase;
  const oracle = async (sql: string) =>
    (await db.client.query<{ id: number }>(sql)).rows.map((row) => Number(row.id)).sort((a, b) => a - b);

  beforeAll(async () => {
    db = await createTestDatabase('subset_virtual');
    await db.client.query(FIXTURE);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('restrict: rows whose virtual parent is not exported are dropped, whatever the kind of key', async () => {
    const subset = await subsetOf(
      db.url,
      config({ 'public.account': [where('t.id <= 3')], 'public.photo': [where('t.id <= 5')] }),
    );
    const posts = await oracle('SELECT id FROM public.post WHERE account_id <= 3');
    expect(ids(subset.rows['public.post'])).toEqual(posts);
    expect(ids(subset.rows['public.comment'])).toEqual(
      await oracle(
        `SELECT id FROM public.comment WHERE post_ref IS NULL OR post_ref IN (${posts.join(',')})`,
      ),
    );
    expect(ids(subset.rows['public.event'])).toEqual(
      await oracle(
        `SELECT id FROM public.event WHERE (payload->'meta'->>'account')::int <= 3 AND account_id <= 3 AND account_code = 'A' || account_id`,
      ),
    );
    // ' 7 ' reads as 7; 'abc' is no integer and points at nothing; kind picks the table.
    expect(ids(subset.rows['public.log'])).toEqual(
      await oracle(
        `SELECT id FROM public.log WHERE object_id <> 'abc' AND CASE kind
           WHEN 'post' THEN btrim(object_id)::int IN (${posts.join(',')})
           ELSE btrim(object_id)::int <= 5 END`,
      ),
    );
    expect(subset.stats['public.log']?.policies.map((p) => [p.foreignKey, p.references, p.policy])).toEqual([
      ['log target->public.post', 'public.post', 'restrict'],
      ['log target->public.photo', 'public.photo', 'restrict'],
    ]);
  });

  it('checks a virtual key against a parent exported whole: a key to no row at all is dropped', async () => {
    const subset = await subsetOf(db.url, config({}));
    expect(subset.rows['public.post']).toHaveLength(40);
    expect(ids(subset.rows['public.comment'])).toEqual(
      await oracle('SELECT id FROM public.comment WHERE id <> 61'),
    );
    expect(subset.stats['public.comment']?.policies[0]?.dropped).toBe(1);
  });

  it('include-parents: the rows a virtual key points at are exported too', async () => {
    const subset = await subsetOf(
      db.url,
      config(
        {
          'public.comment': [where('t.id <= 4')],
          'public.post': [none()],
          'public.log': [where('t.id IN (2, 3)')],
        },
        { 'public.comment.post_ref': 'include-parents', 'log target': 'include-parents' },
      ),
    );
    expect(ids(subset.rows['public.comment'])).toEqual([1, 2, 3, 4]);
    expect(ids(subset.rows['public.post'])).toEqual([2, 3, 4, 5]);
    expect(ids(subset.rows['public.photo'])).toEqual(await oracle('SELECT id FROM public.photo'));
  });

  it('nullify: a virtual key whose parent is not exported reads as NULL, the row stays', async () => {
    const subset = await subsetOf(
      db.url,
      config({ 'public.post': [where('t.id <= 10')] }, { 'public.comment.post_ref': 'nullify' }),
    );
    const comments = subset.rows['public.comment'] ?? [];
    expect(comments).toHaveLength(62);
    const kept = comments.filter((row) => row[1] !== null).map((row) => Number(row[1]));
    expect(kept.sort((a, b) => a - b)).toEqual(
      await oracle('SELECT post_ref AS id FROM public.comment WHERE post_ref <= 10'),
    );
  });

  it('the import checks every virtual key, and refuses a snapshot whose rows break one, leaving the database as it was', async () => {
    const store = await temporaryStore();
    const target = uniqueDatabaseName('virtual_dst');
    try {
      const subset = config({ 'public.account': [where('t.id <= 3')], 'public.photo': [where('t.id <= 5')] });
      const good = await exportSnapshot({ databaseUrl: db.url, store, config: subset });
      const manifest = JSON.parse((await store.readText(manifestKey(good.snapshotId))) ?? '') as Manifest;
      expect(manifest.relations?.map((r) => [r.name, r.origin])).toEqual([
        ['public.comment(post_ref)', 'config'],
        ['event account', 'config'],
        ['public.event(account_id, account_code)', 'config'],
        ['log target->public.post', 'config'],
        ['log target->public.photo', 'config'],
      ]);
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        snapshot: good.snapshotId,
        confirm: async () => true,
      });
      const imported = await queryDatabase<{ n: string }>(target, 'SELECT count(*) AS n FROM public.comment');
      // Without the relation in the config the comments are not pruned; a manifest that claims it fails the check.
      const loose = await exportSnapshot({
        databaseUrl: db.url,
        store,
        config: { ...subset, relations: { virtual: [] } },
      });
      const key = manifestKey(loose.snapshotId);
      const claimed = JSON.parse((await store.readText(key)) ?? '') as Manifest;
      const text = JSON.stringify({ ...claimed, relations: manifest.relations?.slice(0, 1) });
      await store.put(key, text);
      // latest.json and the (unsigned) seal record the manifest's digest: record the changed one, as a
      // faulty exporter would, so the check that runs is the one after loading.
      const latest = JSON.parse((await store.readText(LATEST_KEY)) ?? '') as Record<string, string>;
      const manifestSha256 = createHash('sha256').update(text).digest('hex');
      await store.put(LATEST_KEY, JSON.stringify({ ...latest, manifestSha256 }));
      await store.put(sealKey(loose.snapshotId), await sealText(loose.snapshotId, manifestSha256, undefined));
      const failure = await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: async () => true,
      }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SnapshotIntegrityError);
      expect((failure as Error).message).toMatch(
        /public\.comment: \d+ rows through public\.comment\(post_ref\) point at public\.post rows the snapshot does not have/,
      );
      expect(await queryDatabase<{ n: string }>(target, 'SELECT count(*) AS n FROM public.comment')).toEqual(
        imported,
      );
    } finally {
      await dropDatabase(target);
      await store.remove();
    }
  });

  it("anonymisation: a plain virtual key takes its parent column's rule, so the copy still joins", async () => {
    const store = await temporaryStore();
    const target = uniqueDatabaseName('virtual_anon');
    try {
      await exportSnapshot({
        databaseUrl: db.url,
        store,
        config: {
          ...config({}),
          anonymise: {
            mode: 'warn',
            secret: 'a-test-secret-of-enough-length-0123',
            rules: { 'public.account.code': hash() },
          },
        },
      });
      // The import's relation check passes only if event(account_id, account_code) still finds account(id, code).
      await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: async () => true });
      const rows = await queryDatabase<{ code: string; joined: string }>(
        target,
        `SELECT e.account_code AS code, a.code AS joined FROM public.event e
         LEFT JOIN public.account a ON a.id = e.account_id AND a.code = e.account_code ORDER BY e.id LIMIT 3`,
      );
      expect(rows.length).toBe(3);
      for (const row of rows) {
        expect(row.code).not.toMatch(/^A\d+$/);
        expect(row.joined).toBe(row.code);
      }
    } finally {
      await dropDatabase(target);
      await store.remove();
    }
  });

  it('refuses bad relations with one line each and a did-you-mean', async () => {
    const problems = async (
      virtual: VirtualRelationConfig[],
      policies: Record<string, ForeignKeyPolicy> = {},
    ) => {
      try {
        await subsetOf(db.url, config({}, policies, virtual));
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a failure');
    };
    expect(await problems([{ from: 'public.coment(post_ref)', to: 'public.post' }])).toBe(
      'The devsnap config has 1 problem: relations.virtual[0].from: no table public.coment (did you mean "public.comment"?)',
    );
    expect(await problems([{ from: 'public.comment(post_rf)', to: 'public.post' }])).toBe(
      'The devsnap config has 1 problem: relations.virtual[0].from: no column post_rf in public.comment (did you mean "post_ref"?)',
    );
    expect(await problems([{ from: 'public.comment(post_ref)', to: 'public.post(idd)' }])).toBe(
      'The devsnap config has 1 problem: relations.virtual[0].to: no column idd in public.post (did you mean "id"?)',
    );
    expect(
      await problems([
        {
          from: 'public.log(object_id)',
          discriminator: 'kind',
          to: { post: 'public.posts', photo: 'public.photo' },
        },
      ]),
    ).toBe(
      'The devsnap config has 1 problem: relations.virtual[0].to.post: no table public.posts (did you mean "public.post"?)',
    );
    // A value in the data that "to" does not map: one line naming it, with the mapped value it is close to.
    expect(
      await problems([
        {
          from: 'public.log(object_id)',
          discriminator: 'kind',
          to: { post: 'public.post', photos: 'public.photo' },
        },
      ]),
    ).toBe(
      'The devsnap config has 1 problem: relations.virtual (public.log(object_id)): public.log.kind holds "photo" in 25 rows, which "to" maps to no table (did you mean "photos"?); add it to "to"',
    );
    expect(await problems([{ from: "public.event(payload->'meta')", to: 'public.account' }])).toContain(
      'end the JSON path in "payload->\'meta\'" with ->> so the key is read as text',
    );
    expect(
      await problems([{ name: 'e', from: "public.event(payload->>'a')", to: 'public.account' }], {
        e: 'nullify',
      }),
    ).toBe(
      'The devsnap config has 1 problem: foreignKeys.policies.e: nullify cannot set a key inside JSON to NULL; use restrict or include-parents',
    );
  });
});

describe('Rails polymorphic associations, detected', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('subset_rails');
    await db.client.query(`
      CREATE TABLE public.ar_internal_metadata (key varchar PRIMARY KEY, value varchar);
      CREATE TABLE public.posts (id bigint PRIMARY KEY);
      INSERT INTO public.posts SELECT generate_series(1, 10);
      CREATE TABLE public.admin_users (id bigint PRIMARY KEY);
      INSERT INTO public.admin_users SELECT generate_series(1, 5);
      CREATE TABLE public.comments (id bigint PRIMARY KEY, commentable_type varchar, commentable_id bigint);
      INSERT INTO public.comments VALUES
        (1, 'Post', 1), (2, 'Post', 7), (3, 'Admin::User', 2), (4, 'Admin::User', 5), (5, 'Video', 1), (6, NULL, NULL);
      -- Looks polymorphic, but its values name no table: not taken for an association.
      CREATE TABLE public.payments (id bigint PRIMARY KEY, method_type varchar, method_id bigint);
      INSERT INTO public.payments VALUES (1, 'card', 1);
    `);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('checks commentable_type/commentable_id like a key, and can be switched off', async () => {
    const tables = {
      'public.posts': [where('t.id <= 5')],
      'public.admin_users': [where('t.id <= 3')],
    };
    const subset = await subsetOf(db.url, { defaultStrategy: allRows(), tables });
    // 'Video' names no table: such rows are not checked (the plan lists the value).
    expect(ids(subset.rows['public.comments'])).toEqual([1, 3, 5, 6]);
    expect(ids(subset.rows['public.payments'])).toEqual([1]);
    expect(subset.stats['public.comments']?.policies.map((p) => p.foreignKey)).toEqual([
      'public.comments.commentable_id->public.admin_users',
      'public.comments.commentable_id->public.posts',
    ]);
    const off = await subsetOf(db.url, {
      defaultStrategy: allRows(),
      tables,
      relations: { ignore: ['public.comments.commentable_id'] },
    });
    expect(ids(off.rows['public.comments'])).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(
      subsetOf(db.url, { tables, relations: { railsTypes: { Video: 'public.post' } } }),
    ).rejects.toThrow('relations.railsTypes.Video: no table public.post (did you mean "public.posts"?)');
  });
});
