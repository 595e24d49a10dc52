import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoDatabase, DEMO_TABLES, type DemoSummary } from '../../demo/demo-database.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// Exact counts at scale 0.05: the generator is deterministic, so any change here is a change to
// the data every benchmark and demo is measured on — update the numbers on purpose, not by accident.
const EXPECTED_ROWS: Record<(typeof DEMO_TABLES)[number], number> = {
  'public.users': 250,
  'public.addresses': 375,
  'public.products': 50,
  'public.orders': 900,
  'public.order_items': 2226,
  'public.comments': 500,
  'billing.payments': 727,
};

async function tableDigest(db: TestDatabase, table: string): Promise<string> {
  const { rows } = await db.client.query<{ digest: string }>(
    `SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest FROM ${table} AS t`,
  );
  return rows[0]?.digest ?? '';
}

async function scalar<T>(db: TestDatabase, sql: string): Promise<T> {
  const { rows } = await db.client.query<{ value: T }>(sql);
  return rows[0]?.value as T;
}

describe('demo database', () => {
  let first: TestDatabase;
  let second: TestDatabase;
  let summary: DemoSummary;

  beforeAll(async () => {
    first = await createTestDatabase('demo');
    second = await createTestDatabase('demo');
    summary = await buildDemoDatabase(first.client, { scale: 0.05 });
    await buildDemoDatabase(second.client, { scale: 0.05 });
  });

  afterAll(async () => {
    await first?.drop();
    await second?.drop();
  });

  it('reports exact per-table counts that match the tables', async () => {
    expect(Object.fromEntries(summary.tables.map((table) => [table.table, table.rows]))).toEqual(
      EXPECTED_ROWS,
    );
    expect(summary.totalRows).toBe(Object.values(EXPECTED_ROWS).reduce((sum, rows) => sum + rows, 0));
    for (const table of DEMO_TABLES) {
      expect(Number(await scalar<string>(first, `SELECT count(*) AS value FROM ${table}`)), table).toBe(
        EXPECTED_ROWS[table],
      );
    }
  });

  it('builds identical rows every time', async () => {
    expect(await tableDigest(first, 'public.users')).toBe(await tableDigest(second, 'public.users'));
    for (const table of DEMO_TABLES) {
      expect(await tableDigest(first, table), table).toBe(await tableDigest(second, table));
    }
  });

  it('has comment threads: roots, replies, and replies to replies, without cycles', async () => {
    const { rows } = await first.client.query<{
      roots: string;
      replies: string;
      nested: string;
      forward: string;
    }>(`
      SELECT count(*) FILTER (WHERE c.parent_id IS NULL) AS roots,
             count(*) FILTER (WHERE c.parent_id IS NOT NULL) AS replies,
             count(*) FILTER (WHERE p.parent_id IS NOT NULL) AS nested,
             count(*) FILTER (WHERE c.parent_id >= c.id) AS forward
      FROM public.comments AS c LEFT JOIN public.comments AS p ON p.id = c.parent_id`);
    const counts = rows[0]!;
    expect(Number(counts.roots)).toBeGreaterThan(0);
    expect(Number(counts.replies)).toBeGreaterThan(0);
    expect(Number(counts.nested)).toBeGreaterThan(0);
    // Parents always come first, so an import in id order never meets a dangling reference.
    expect(Number(counts.forward)).toBe(0);
  });

  it('leaves some shipping addresses NULL and points the rest at the customer’s own address', async () => {
    const { rows } = await first.client.query<{ without: string; foreign: string }>(`
      SELECT count(*) FILTER (WHERE o.shipping_address_id IS NULL) AS without,
             count(*) FILTER (WHERE a.user_id <> o.user_id) AS foreign
      FROM public.orders AS o LEFT JOIN public.addresses AS a ON a.id = o.shipping_address_id`);
    expect(Number(rows[0]?.without)).toBeGreaterThan(0);
    expect(Number(rows[0]?.without)).toBeLessThan(EXPECTED_ROWS['public.orders'] / 2);
    expect(Number(rows[0]?.foreign)).toBe(0);
  });

  it('fills invoice numbers from a free sequence that no column owns', async () => {
    const owners = await scalar<string>(
      first,
      `SELECT count(*) AS value FROM pg_depend
       WHERE classid = 'pg_class'::regclass AND objid = 'billing.invoice_number_seq'::regclass
         AND refclassid = 'pg_class'::regclass AND deptype IN ('a', 'i')`,
    );
    expect(Number(owners)).toBe(0);
    const columnDefault = await scalar<string>(
      first,
      `SELECT column_default AS value FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'orders' AND column_name = 'invoice_number'`,
    );
    expect(columnDefault).toContain('billing.invoice_number_seq');
    const { rows } = await first.client.query<{ last_value: string; max: string; distinct: string }>(`
      SELECT (SELECT last_value FROM billing.invoice_number_seq) AS last_value,
             max(invoice_number) AS max, count(DISTINCT invoice_number) AS distinct
      FROM public.orders`);
    expect(rows[0]?.last_value).toBe(rows[0]?.max);
    expect(Number(rows[0]?.distinct)).toBe(EXPECTED_ROWS['public.orders']);
  });

  it('keeps email unique, by constraint and in the data', async () => {
    const { rows } = await first.client.query<{ total: string; distinct: string }>(
      'SELECT count(*) AS total, count(DISTINCT lower(email)) AS distinct FROM public.users',
    );
    expect(rows[0]?.distinct).toBe(rows[0]?.total);
    await expect(
      first.client.query(
        `INSERT INTO public.users (email, first_name, last_name)
         SELECT email, 'Copy', 'Cat' FROM public.users WHERE id = 1`,
      ),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('has the schema features an export must carry: enum, domain, partial and expression indexes', async () => {
    const labels = await first.client.query<{ label: string }>(
      `SELECT unnest(enum_range(NULL::public.order_status))::text AS label`,
    );
    expect(labels.rows.map((row) => row.label)).toEqual([
      'pending',
      'paid',
      'shipped',
      'delivered',
      'cancelled',
      'refunded',
    ]);
    await expect(
      first.client.query(`UPDATE public.products SET price = 0 WHERE id = 1`),
    ).rejects.toMatchObject({ code: '23514' });
    const indexes = await first.client.query<{ name: string; partial: boolean; expression: boolean }>(`
      SELECT c.relname AS name, i.indpred IS NOT NULL AS partial, i.indexprs IS NOT NULL AS expression
      FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
      WHERE c.relname IN ('orders_open_placed_at_idx', 'users_lower_email_idx') ORDER BY 1`);
    expect(indexes.rows).toEqual([
      { name: 'orders_open_placed_at_idx', partial: true, expression: false },
      { name: 'users_lower_email_idx', partial: false, expression: true },
    ]);
  });

  it('contains text that is hard to copy: non-ASCII, tabs, newlines, backslashes', async () => {
    const { rows } = await first.client.query<{
      non_ascii: string;
      tabs: string;
      newlines: string;
      backslashes: string;
    }>(`
      SELECT count(*) FILTER (WHERE body ~ '[^\\x01-\\x7f]') AS non_ascii,
             count(*) FILTER (WHERE strpos(body, E'\\t') > 0) AS tabs,
             count(*) FILTER (WHERE strpos(body, E'\\n') > 0) AS newlines,
             count(*) FILTER (WHERE strpos(body, '\\') > 0) AS backslashes
      FROM public.comments`);
    for (const [kind, count] of Object.entries(rows[0]!)) expect(Number(count), kind).toBeGreaterThan(0);
  });

  it('is analysed, so planners and row estimates see real sizes', async () => {
    const unanalysed = await scalar<string>(
      first,
      `SELECT count(*) AS value FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND n.nspname IN ('public', 'billing') AND c.reltuples < 0`,
    );
    expect(Number(unanalysed)).toBe(0);
  });
});
