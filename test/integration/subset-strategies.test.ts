import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { UsageError } from '../../core/errors.js';
import {
  allRows,
  exactKeys,
  latest,
  none,
  randomSample,
  referencedBy,
  referencing,
  where,
} from '../../strategies/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { loadSubsetFixture } from '../support/subset-fixture.js';
import { ids, subsetOf } from '../support/subset-selection.js';

/** Only the tables a test names get rows; a key to a missing parent reads as NULL where it can. */
const only = (tables: DevsnapConfig['tables'], policies: Record<string, 'nullify'> = {}): DevsnapConfig => ({
  defaultStrategy: none(),
  tables,
  foreignKeys: { default: 'nullify', policies },
});

describe('subset strategies pick exactly their rows', () => {
  let db: TestDatabase;
  const oracle = async (sql: string) =>
    (await db.client.query<{ id: number }>(sql)).rows.map((row) => row.id);

  beforeAll(async () => {
    db = await createTestDatabase('subset_strategies');
    await loadSubsetFixture(db.client);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('allRows takes every row; none() and an empty list take none', async () => {
    const subset = await subsetOf(
      db.url,
      only({ 'public.account': [allRows()], 'public.project': [], 'public.task': [none()] }),
    );
    expect(ids(subset.rows['public.account'])).toEqual(range(1, 20));
    expect(subset.rows['public.project']).toEqual([]);
    expect(subset.rows['public.task']).toEqual([]);
    expect(subset.rows['public.big']).toEqual([]);
    expect(subset.stats['public.account']?.strategies).toEqual([{ name: 'all-rows', rows: 20 }]);
    expect(subset.stats['public.task']?.strategies).toEqual([{ name: 'none', rows: 0 }]);
  });

  it('where picks the rows matching a condition, with parameters', async () => {
    const subset = await subsetOf(
      db.url,
      only({ 'public.account': [where('t.id <= $1 AND t.label <> $2', [4, 'account 2'])] }),
    );
    // Account 4's manager (2) is not exported: its key reads as NULL, the row stays.
    expect(subset.rows['public.account']?.map((row) => [row[0], row[3]])).toEqual([
      ['1', null],
      ['3', '1'],
      ['4', null],
    ]);
  });

  it('exactKeys picks the listed keys, composite keys too, and ignores keys that do not exist', async () => {
    const subset = await subsetOf(db.url, {
      tables: {
        'public.big': [exactKeys([2, 5, 99_999])],
        'public.task': [
          exactKeys([
            ['P1', 2],
            ['P3', 1],
          ]),
        ],
        'public.task_note': [none()],
      },
    });
    expect(ids(subset.rows['public.big'])).toEqual([2, 5]);
    expect(subset.rows['public.task']?.map((row) => row.slice(0, 2))).toEqual([
      ['P1', '2'],
      ['P3', '1'],
    ]);
  });

  it('latest picks the newest rows by a column, ties broken by key', async () => {
    const subset = await subsetOf(
      db.url,
      only({
        'public.account': [latest(3, { orderBy: 'created_at' })],
        'public.big': [latest(3, { orderBy: 'v' })],
      }),
    );
    expect(ids(subset.rows['public.account'])).toEqual([18, 19, 20]);
    // v = 6 for ids 6, 13, 20, …: the three smallest keys win the tie.
    expect(ids(subset.rows['public.big'])).toEqual([6, 13, 20]);
  });

  it('randomSample picks the rows with the smallest keyed hashes, repeatably, without sorting a big table', async () => {
    const sample = (seed: number) => only({ 'public.big': [randomSample({ count: 25, seed })] });
    const first = await subsetOf(db.url, sample(7));
    const again = await subsetOf(db.url, sample(7));
    const other = await subsetOf(db.url, sample(8));
    const expected = await oracle(
      'SELECT id FROM public.big ORDER BY hashtextextended(id::text, 7) LIMIT 25',
    );
    expect(ids(first.rows['public.big'])).toEqual(expected.sort((a, b) => a - b));
    expect(ids(again.rows['public.big'])).toEqual(ids(first.rows['public.big']));
    expect(ids(other.rows['public.big'])).not.toEqual(ids(first.rows['public.big']));
    // A table never analysed has no row estimate: the whole (small) table is ordered by hash.
    const small = await subsetOf(db.url, only({ 'public.account': [randomSample({ count: 5, seed: 3 })] }));
    expect(ids(small.rows['public.account'])).toEqual(
      (await oracle('SELECT id FROM public.account ORDER BY hashtextextended(id::text, 3) LIMIT 5')).sort(
        (a, b) => a - b,
      ),
    );
  });

  it('randomSample by percent keeps the rows whose hash falls in that share of the range', async () => {
    const subset = await subsetOf(db.url, only({ 'public.big': [randomSample({ percent: 10, seed: 7 })] }));
    const expected = await oracle(
      `SELECT id FROM public.big
       WHERE hashtextextended(id::text, 7)::numeric + 9223372036854775808 < 0.1 * 18446744073709551616 ORDER BY id`,
    );
    expect(ids(subset.rows['public.big'])).toEqual(expected);
    expect(expected.length).toBeGreaterThan(850);
    expect(expected.length).toBeLessThan(1150);
  });

  it('unions several named strategies without duplicates and counts each one', async () => {
    const subset = await subsetOf(
      db.url,
      only({
        'public.account': [where('t.id <= 3', [], { name: 'first' }), exactKeys([3, 4], { name: 'listed' })],
      }),
    );
    expect(ids(subset.rows['public.account'])).toEqual([1, 2, 3, 4]);
    expect(subset.stats['public.account']?.strategies).toEqual([
      { name: 'first', rows: 3 },
      { name: 'listed', rows: 2 },
    ]);
    expect(subset.stats['public.account']?.rows).toBe(4);
  });

  it('referencedBy picks the rows that another table’s selected rows point at, through one key or all', async () => {
    // Project 1: account 2, lead 8. Project 2: account 3, lead 15.
    const all = await subsetOf(
      db.url,
      only({ 'public.project': [exactKeys([1, 2])], 'public.account': [referencedBy('public.project')] }),
    );
    expect(ids(all.rows['public.account'])).toEqual([2, 3, 8, 15]);
    expect(all.stats['public.account']?.strategies).toEqual([
      { name: 'referenced-by public.project', rows: 4 },
    ]);
    const owners = await subsetOf(
      db.url,
      only({
        'public.project': [exactKeys([1, 2])],
        'public.account': [referencedBy('public.project', { foreignKey: 'project_account_id_fkey' })],
      }),
    );
    expect(ids(owners.rows['public.account'])).toEqual([2, 3]);
    // Their leads are not exported, so lead_id reads as NULL.
    expect(owners.rows['public.project']?.map((row) => row[3])).toEqual([null, null]);
  });

  it('referencing picks the rows that point at another table’s selected rows', async () => {
    // Accounts 2 and 3 own projects 1, 2, 21 and 22; account 2 leads project 23.
    const owned = await subsetOf(
      db.url,
      only({
        'public.account': [exactKeys([2, 3])],
        'public.project': [referencing('public.account', { foreignKey: 'project_account_id_fkey' })],
      }),
    );
    expect(ids(owned.rows['public.project'])).toEqual([1, 2, 21, 22]);
    const any = await subsetOf(
      db.url,
      only({ 'public.account': [exactKeys([2, 3])], 'public.project': [referencing('public.account')] }),
    );
    // Projects 23 and 26 are led by accounts 2 and 3 but owned by accounts 4 and 7, which are not
    // exported: restrict drops them.
    expect(ids(any.rows['public.project'])).toEqual([1, 2, 21, 22]);
    expect(any.stats['public.project']?.strategies).toEqual([
      { name: 'referencing public.account', rows: 6 },
    ]);
    expect(any.stats['public.project']?.policies).toContainEqual(
      expect.objectContaining({ foreignKey: 'public.project.project_account_id_fkey', dropped: 2 }),
    );
  });

  it('lists a related strategy that names no linked table with the config’s other problems', async () => {
    const error = await subsetOf(db.url, only({ 'public.account': [referencing('public.big')] })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain(
      'tables.public.account (referencing public.big): no foreign key from public.account to public.big',
    );
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
