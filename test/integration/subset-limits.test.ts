/**
 * django-devdata's order for limits: a table's rows are first restricted to those whose parents
 * (decided earlier) are exported, then ordered and sliced. `latest(100)` gives 100 rows whenever
 * 100 such rows exist, whether the parents' values travel to the server (few) or are checked here
 * over ranked pages (many).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { resolveSourceConfig } from '../../core/config/resolve-config.js';
import { silentReporter } from '../../core/progress.js';
import { PostgresIntrospector } from '../../core/schema/postgres-introspector.js';
import { qualifiedName } from '../../core/schema/schema-model.js';
import { RdsDataSource } from '../../core/source/rds-data-source.js';
import { selectRows } from '../../core/subset/row-selection.js';
import { latest, none, randomSample, where } from '../../strategies/index.js';
import { dataApiOptions } from '../support/data-api-fixture.js';
import { startDataApiServer } from '../support/data-api-server.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/databases.js';
import { ids, readAll, subsetOf } from '../support/subset-selection.js';

const FIXTURE = `
  CREATE TABLE public.author (id int PRIMARY KEY, staff boolean NOT NULL);
  INSERT INTO public.author SELECT g, g % 50 = 0 FROM generate_series(1, 200) g;
  CREATE TABLE public.post (
    id int PRIMARY KEY,
    author_id int NOT NULL REFERENCES public.author (id),
    editor_id int REFERENCES public.author (id),
    published_at timestamptz NOT NULL
  );
  INSERT INTO public.post
  SELECT g, 1 + (g * 37) % 200, CASE WHEN g % 4 <> 0 THEN 1 + (g * 11) % 200 END,
         timestamptz '2026-01-01' + ((g * 7919) % 20000) * interval '1 minute'
  FROM generate_series(1, 20000) g;
  CREATE TABLE public.reader (id int PRIMARY KEY);
  INSERT INTO public.reader SELECT generate_series(1, 8000);
  CREATE TABLE public.view (id int PRIMARY KEY, reader_id int NOT NULL REFERENCES public.reader (id));
  INSERT INTO public.view SELECT g, 1 + (g * 7) % 8000 FROM generate_series(1, 20000) g;
  ANALYZE;
`;

const config = (tables: DevsnapConfig['tables']): DevsnapConfig => ({
  defaultStrategy: none(),
  tables,
  foreignKeys: { default: 'restrict' },
});

describe('limits pick among the rows whose parents are exported', () => {
  let db: TestDatabase;
  const oracle = async (sql: string) =>
    (await db.client.query<{ id: number }>(sql)).rows.map((row) => row.id).sort((a, b) => a - b);

  beforeAll(async () => {
    db = await createTestDatabase('subset_limits');
    await db.client.query(FIXTURE);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('latest(100) gives the 100 newest posts of exported authors (few parents: checked by the server)', async () => {
    const subset = await subsetOf(
      db.url,
      config({
        'public.author': [randomSample({ count: 10, seed: 3 }), where('t.staff', [], { name: 'staff' })],
        'public.post': [latest(100, { orderBy: '-published_at' })],
      }),
    );
    const authors = ids(subset.rows['public.author']);
    expect(authors.length).toBeGreaterThanOrEqual(10);
    const list = authors.join(',');
    expect(ids(subset.rows['public.post'])).toEqual(
      await oracle(
        `SELECT id FROM public.post WHERE author_id IN (${list}) AND (editor_id IS NULL OR editor_id IN (${list}))
         ORDER BY published_at DESC, id LIMIT 100`,
      ),
    );
    expect(subset.rows['public.post']).toHaveLength(100);
    expect(subset.stats['public.post']?.strategies).toEqual([{ name: 'latest', rows: 100 }]);
    expect(subset.stats['public.post']?.policies.map((p) => p.dropped)).toEqual([0, 0]);
  });

  it('latest(50) gives 50 views of exported readers when the readers are many (checked here, page by page)', async () => {
    const subset = await subsetOf(
      db.url,
      config({
        'public.reader': [where('t.id % 3 <> 0')],
        'public.view': [latest(50, { orderBy: 'id' })],
      }),
    );
    expect(subset.rows['public.reader']?.length).toBeGreaterThan(5000);
    expect(ids(subset.rows['public.view'])).toEqual(
      await oracle('SELECT id FROM public.view WHERE reader_id % 3 <> 0 ORDER BY id DESC LIMIT 50'),
    );
  });

  it('randomSample({ count }) picks the smallest hashes among rows that pass, widening its hash range when it must', async () => {
    for (const [readers, count] of [
      ['t.id % 3 <> 0', 30],
      ['t.id <= 3', 5],
    ] as const) {
      const subset = await subsetOf(
        db.url,
        config({
          'public.reader': [where(readers)],
          'public.view': [randomSample({ count, seed: 5 })],
        }),
      );
      const passing = readers.replaceAll('t.id', 'reader_id');
      const expected = await oracle(
        `SELECT id FROM public.view t WHERE ${passing} ORDER BY hashtextextended(t.id::text, 5), t.id LIMIT ${count}`,
      );
      expect(expected).toHaveLength(count);
      expect(ids(subset.rows['public.view'])).toEqual(expected);
    }
  });

  it("reads django-devdata's ordering strings: '-field' descending, 'field' ascending, 'pk' the key", async () => {
    const subset = await subsetOf(
      db.url,
      config({
        'public.author': [where('t.id <= 100')],
        'public.post': [latest(20, { orderBy: ['published_at', '-pk'] })],
      }),
    );
    expect(ids(subset.rows['public.post'])).toEqual(
      await oracle(
        `SELECT id FROM public.post WHERE author_id <= 100 AND (editor_id IS NULL OR editor_id <= 100)
         ORDER BY published_at, id DESC LIMIT 20`,
      ),
    );
  });

  it('gives fewer rows only when fewer exist', async () => {
    const subset = await subsetOf(
      db.url,
      config({
        'public.reader': [where('t.id <= 2')],
        'public.view': [latest(100, { orderBy: 'id' })],
      }),
    );
    expect(ids(subset.rows['public.view'])).toEqual(
      await oracle('SELECT id FROM public.view WHERE reader_id <= 2'),
    );
  });

  it('picks the same rows through the RDS Data API, whose pages come back in key order', async () => {
    const api = await startDataApiServer({ postgresUrl: serverUrl('postgres') });
    const tables = {
      'public.reader': [where('t.id % 3 <> 0')],
      'public.view': [latest(50, { orderBy: 'id' })],
    };
    try {
      const source = await RdsDataSource.connect(dataApiOptions(api, db.name));
      try {
        const model = await new PostgresIntrospector(source).introspect();
        const selection = await selectRows(
          source,
          model,
          await resolveSourceConfig(source, config(tables), model),
          silentReporter,
        );
        const view = model.tables.find((table) => qualifiedName(table) === 'public.view');
        const rows = await readAll(selection, view as NonNullable<typeof view>);
        expect(ids(rows)).toEqual(
          await oracle('SELECT id FROM public.view WHERE reader_id % 3 <> 0 ORDER BY id DESC LIMIT 50'),
        );
      } finally {
        await source.close();
      }
    } finally {
      await api.stop();
    }
  });
});
