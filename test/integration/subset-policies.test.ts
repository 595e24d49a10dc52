import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { ReadOnlyViolationError, UsageError } from '../../core/errors.js';
import { allRows, exactKeys, none, where } from '../../strategies/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { loadSubsetFixture } from '../support/subset-fixture.js';
import { ids, readAll, subsetOf, withSelection } from '../support/subset-selection.js';

describe('foreign-key policies keep every exported key satisfied', () => {
  let db: TestDatabase;
  const column = async (sql: string) =>
    (await db.client.query<{ v: string | number }>(sql)).rows.map((row) => row.v);

  beforeAll(async () => {
    db = await createTestDatabase('subset_policies');
    await loadSubsetFixture(db.client);
    await db.client.query(`
      -- Two accounts that manage each other: a cycle of rows inside a self-reference.
      INSERT INTO public.account VALUES (21, 'account 21', '2026-03-01', NULL), (22, 'account 22', '2026-03-02', 21);
      UPDATE public.account SET manager_id = 22 WHERE id = 21;
      -- Keys declared on each partition rather than on the partitioned table (as in Pagila).
      CREATE TABLE public.visit (id int, at date, account_id int NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
      CREATE TABLE public.visit_2025 PARTITION OF public.visit FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
      CREATE TABLE public.visit_2026 PARTITION OF public.visit FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      ALTER TABLE public.visit_2025 ADD FOREIGN KEY (account_id) REFERENCES public.account (id);
      ALTER TABLE public.visit_2026 ADD FOREIGN KEY (account_id) REFERENCES public.account (id);
      INSERT INTO public.visit SELECT g, DATE '2025-06-01' + g * 20, 1 + g % 4 FROM generate_series(1, 20) g;
      -- A bigint key to an int column: compared across types on the server, by text here.
      CREATE TABLE public.account_badge (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES public.account (id));
      INSERT INTO public.account_badge SELECT g, 1 + g % 20 FROM generate_series(1, 40) g;
    `);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('restrict drops rows whose parent is not exported, down a tree, a unique key and a composite key', async () => {
    const subset = await subsetOf(db.url, {
      tables: { 'public.account': [where('t.id NOT IN (2, 21, 22)')] },
    });
    // Everything that reports to account 2, directly or not, goes with it.
    expect(ids(subset.rows['public.account'])).toEqual([1, 3, 6, 7, 12, 13, 14, 15]);
    expect(subset.stats['public.account']?.policies).toEqual([
      {
        foreignKey: 'public.account.account_manager_id_fkey',
        references: 'public.account',
        policy: 'restrict',
        dropped: 11,
        nulled: 0,
        included: 0,
      },
    ]);
    const kept = '(1, 3, 6, 7, 12, 13, 14, 15)';
    const projects = await column(
      `SELECT id AS v FROM public.project WHERE account_id IN ${kept} AND (lead_id IS NULL OR lead_id IN ${kept}) ORDER BY id`,
    );
    expect(projects.length).toBeGreaterThan(3);
    expect(ids(subset.rows['public.project'])).toEqual(projects);
    const codes = `(${projects.map((id) => `'P${id}'`).join(', ')})`;
    expect(subset.rows['public.task']?.map((row) => `${row[0]}.${row[1]}`).sort()).toEqual(
      (
        await column(`SELECT project_code || '.' || n AS v FROM public.task WHERE project_code IN ${codes}`)
      ).sort(),
    );
    // task_note has no primary key; its composite key to task is restricted too, and a NULL key stays.
    expect(subset.rows['public.task_note']?.map((row) => row[2]).sort()).toEqual(
      (
        await column(
          `SELECT body AS v FROM public.task_note WHERE project_code IN ${codes} OR project_code IS NULL`,
        )
      ).sort(),
    );
    expect(subset.stats['public.task_note']?.policies[0]?.dropped).toBe(30 - projects.length);
    expect(ids(subset.rows['public.account_badge'])).toEqual(
      await column(`SELECT id::int AS v FROM public.account_badge WHERE account_id IN ${kept} ORDER BY id`),
    );
    // Visits are pruned through the keys declared on their partitions.
    expect(ids(subset.rows['public.visit'])).toEqual(
      await column(`SELECT id AS v FROM public.visit WHERE account_id IN ${kept} ORDER BY id`),
    );
    expect(subset.stats['public.visit']?.policies.map((p) => [p.foreignKey, p.references])).toEqual([
      ['public.visit_2025.visit_2025_account_id_fkey', 'public.account'],
    ]);
  });

  it('include-parents pulls parents in transitively, across tables and up a self-reference', async () => {
    const subset = await subsetOf(db.url, {
      defaultStrategy: none(),
      tables: { 'public.task': [exactKeys([['P19', 1]])] },
      foreignKeys: { default: 'include-parents' },
    });
    expect(subset.rows['public.task']?.map((row) => row.slice(0, 2))).toEqual([['P19', '1']]);
    // Project 19: account 20 (managed by 10, 5, 2, 1), led by 14 (managed by 7, 3, 1).
    expect(ids(subset.rows['public.project'])).toEqual([19]);
    expect(ids(subset.rows['public.account'])).toEqual([1, 2, 3, 5, 7, 10, 14, 20]);
    expect(subset.rows['public.task_note']).toEqual([]);
    const included = (table: string) =>
      Object.fromEntries((subset.stats[table]?.policies ?? []).map((p) => [p.foreignKey, p.included]));
    expect(included('public.task')).toEqual({ 'public.task.task_project_code_fkey': 1 });
    expect(included('public.project')).toEqual({
      'public.project.project_account_id_fkey': 1,
      'public.project.project_lead_id_fkey': 1,
    });
    expect(included('public.account')).toEqual({ 'public.account.account_manager_id_fkey': 6 });
  });

  it('nullify sets a nullable key to NULL where its parent is not exported, in every read of the rows', async () => {
    const config: DevsnapConfig = {
      tables: {
        'public.account': [exactKeys([1, 2, 3])],
        'public.task': [none()],
        'public.task_note': [none()],
      },
      foreignKeys: {
        policies: {
          'public.project.project_lead_id_fkey': 'nullify',
          'public.account.account_manager_id_fkey': 'nullify',
        },
      },
    };
    await withSelection(db.url, config, async (selection, tables) => {
      const project = tables.find((t) => t.name === 'project')!;
      const rows = await readAll(selection, project);
      // Projects of accounts 1–3; only project 20's lead (account 1) is exported.
      expect(rows).toEqual([
        ['1', 'P1', '2', null],
        ['2', 'P2', '3', null],
        ['20', 'P20', '1', '1'],
        ['21', 'P21', '2', null],
        ['22', 'P22', '3', null],
      ]);
      const leadOnly = await readAll(
        selection,
        project,
        project.columns.filter((c) => c.name === 'lead_id'),
      );
      expect(leadOnly).toEqual([[null], [null], [null], [null], ['1']]);
      const stats = selection.stats(project);
      expect(stats.rows).toBe(5);
      expect(stats.policies).toEqual([
        expect.objectContaining({ policy: 'restrict', dropped: 25, nulled: 0 }),
        expect.objectContaining({ policy: 'nullify', dropped: 0, nulled: 3 }),
      ]);
      expect(await readAll(selection, project)).toEqual(rows);
      expect(selection.stats(project)).toEqual(stats);
    });
  });

  it('keeps a cycle of rows that all reference each other, and drops a cycle whose way out is missing', async () => {
    const kept = await subsetOf(db.url, {
      tables: {
        'public.department': [where('true')],
        'public.employee': [where('true')],
        'public.account': [where('t.id >= 21')],
      },
    });
    expect(ids(kept.rows['public.department'])).toEqual([1, 2, 3]);
    expect(ids(kept.rows['public.employee'])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ids(kept.rows['public.account'])).toEqual([21, 22]);

    // Without employee 1, department 1 loses its head, so its staff (3, 6) go, so department 3
    // (headed by 3) goes, and so on around the cycle until nothing is left.
    const cascaded = await subsetOf(db.url, {
      tables: { 'public.employee': [where('t.id <> 1')], 'public.account': [where('t.id = 21')] },
    });
    expect(cascaded.rows['public.department']).toEqual([]);
    expect(cascaded.rows['public.employee']).toEqual([]);
    expect(cascaded.rows['public.account']).toEqual([]);
    expect(cascaded.stats['public.employee']?.policies[0]).toMatchObject({ dropped: 5 });
    expect(cascaded.stats['public.department']?.policies[0]).toMatchObject({ dropped: 3 });
  });

  it('exports a table without a primary key by row identity, and reads large shares by scanning', async () => {
    const subset = await subsetOf(db.url, {
      defaultStrategy: allRows(),
      tables: {
        'public.task_note': [where(`t.body LIKE 'note 1%'`)],
        // Half of an analysed table: read in one pass rather than by key batches.
        'public.big': [where('t.id % 2 = 0')],
      },
    });
    expect(subset.rows['public.task_note']?.map((row) => row[2]).sort()).toEqual(
      ['note 1', ...Array.from({ length: 10 }, (_, i) => `note 1${i}`)].sort(),
    );
    expect(ids(subset.rows['public.big'])).toEqual(Array.from({ length: 5000 }, (_, i) => 2 * (i + 1)));
  });

  it('streams a large share of a big table by filtering it, without holding its keys', async () => {
    await db.client.query(`
      CREATE TABLE public.big_child (id int PRIMARY KEY, big_id int REFERENCES public.big (id), extra_id int REFERENCES public.big (id));
      INSERT INTO public.big_child SELECT g, 1 + g % 10000, CASE WHEN g % 5 = 0 THEN 1 + g % 7001 END FROM generate_series(1, 40000) g;
      ANALYZE public.big_child;
    `);
    try {
      // Half of big: its children are kept by half (20,000 of 40,000 rows, too many keys to hold).
      const config: DevsnapConfig = {
        tables: { 'public.big': [where('t.id % 2 = 0')] },
        foreignKeys: { policies: { 'public.big_child.big_child_extra_id_fkey': 'nullify' } },
      };
      await withSelection(db.url, config, async (selection, tables) => {
        const child = tables.find((t) => t.name === 'big_child')!;
        const rows = await readAll(selection, child);
        const expected = await db.client.query<{ id: string; big_id: string; extra_id: string | null }>(
          `SELECT c.id::text, c.big_id::text, CASE WHEN c.extra_id % 2 = 0 THEN c.extra_id::text END AS extra_id
           FROM public.big_child c WHERE c.big_id % 2 = 0 ORDER BY c.id`,
        );
        expect(rows).toEqual(expected.rows.map((row) => [row.id, row.big_id, row.extra_id]));
        expect(selection.stats(child)).toEqual({
          rows: 20_000,
          strategies: [{ name: 'all-rows', rows: 40_000 }],
          policies: [
            expect.objectContaining({
              foreignKey: 'public.big_child.big_child_big_id_fkey',
              dropped: 20_000,
            }),
            expect.objectContaining({
              foreignKey: 'public.big_child.big_child_extra_id_fkey',
              nulled: expected.rows.filter((row) => row.extra_id === null).length - 16_000,
            }),
          ],
        });
      });
    } finally {
      await db.client.query('DROP TABLE public.big_child');
    }
  });

  it('stops on maxRows with the table, the limit and what pulled the rows in', async () => {
    const perTable = await subsetOf(db.url, {
      defaultStrategy: none(),
      tables: { 'public.task': [exactKeys([['P19', 1]])], 'public.account': { strategies: [], maxRows: 5 } },
      foreignKeys: { default: 'include-parents' },
    }).catch((error) => error);
    expect(perTable).toBeInstanceOf(UsageError);
    expect(perTable.message).toBe(
      'public.account would export 8 rows, more than its maxRows of 5. Its rows came from: ' +
        'include-parents on public.project.project_account_id_fkey (1), include-parents on public.project.project_lead_id_fkey (1), ' +
        'include-parents on public.account.account_manager_id_fkey (6).',
    );
    const total = await subsetOf(db.url, { maxRows: { total: 1000 } }).catch((error) => error);
    expect(total).toBeInstanceOf(UsageError);
    expect(total.message).toMatch(
      /^The export would take 10,\d{3} rows, more than maxRows\.total of 1,000\. Largest: public\.big 10,000 rows from strategy "all-rows" \(10,000\)/,
    );
  });

  it('reads one snapshot: rows changed after the export began are not seen, and writes are refused', async () => {
    await withSelection(
      db.url,
      { tables: { 'public.account': [where('t.id <= 3')] } },
      async (selection, tables, source) => {
        await db.client.query(`UPDATE public.account SET label = 'changed' WHERE id = 1`);
        await db.client.query(`INSERT INTO public.account VALUES (23, 'late', now(), 1)`);
        try {
          const account = tables.find((t) => t.name === 'account')!;
          expect((await readAll(selection, account)).map((row) => row[1])).toEqual([
            'account 1',
            'account 2',
            'account 3',
          ]);
          await expect(source.query('DELETE FROM public.account')).rejects.toBeInstanceOf(
            ReadOnlyViolationError,
          );
          await expect(source.query('SELECT 1 FROM public.account FOR UPDATE')).rejects.toBeInstanceOf(
            ReadOnlyViolationError,
          );
        } finally {
          await db.client.query(`UPDATE public.account SET label = 'account 1' WHERE id = 1`);
          await db.client.query('DELETE FROM public.account WHERE id = 23');
        }
      },
    );
  });
});
