import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectSnapshot } from '../../core/snapshot-catalog.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { exportAndImport, type RoundTrip } from '../support/export-and-import.js';
import { tableFingerprints } from '../support/fingerprints.js';
import { loadPagila } from '../support/sql-script.js';

describe('Pagila: export then import', () => {
  let source: TestDatabase;
  let roundTrip: RoundTrip;
  let target: pg.Client;

  beforeAll(async () => {
    source = await createTestDatabase('pagila_src');
    await loadPagila(source.client);
    // Tests fidelity, not anonymisation: personal columns go through as they are (warn mode).
    roundTrip = await exportAndImport(source, {
      config: { anonymise: { mode: 'warn' } },
      targetPrefix: 'pagila_dst',
    });
    target = roundTrip.target.client;
  });
  afterAll(async () => {
    await roundTrip?.remove();
    await source.drop();
  });

  it('restores every table row for row (ordered hash), partitions included', async () => {
    const expected = await tableFingerprints(source.client);
    const actual = await tableFingerprints(target);
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    expect(Object.keys(expected)).toContain('public.payment_p2022_07');
    expect(expected['public.rental']?.rows).toBe(16044);
    for (const [table, fingerprint] of Object.entries(expected)) {
      expect({ table, ...actual[table] }).toEqual({ table, ...fingerprint });
    }
  });

  it("moves every key sequence's next value past its table's max key", async () => {
    // Pagila's sequences are not OWNED BY their columns; they feed them through column defaults.
    const { rows: linked } = await target.query<{
      sequence: string;
      table_name: string;
      column_name: string;
    }>(
      `SELECT format('%I.%I', sn.nspname, s.relname) AS sequence, format('%I.%I', tn.nspname, t.relname) AS table_name,
              quote_ident(a.attname) AS column_name
       FROM pg_attrdef ad
       JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
       JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_class t ON t.oid = ad.adrelid AND t.relkind IN ('r', 'p') AND NOT t.relispartition
       JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ad.adnum`,
    );
    expect(linked.length).toBe(13);
    for (const { sequence, table_name, column_name } of linked) {
      const { rows } = await target.query<{ next: string; max: string | null }>(
        `SELECT nextval('${sequence}') AS next, (SELECT max(${column_name}) FROM ${table_name}) AS max`,
      );
      expect({ sequence, past: BigInt(rows[0]!.next) > BigInt(rows[0]!.max ?? 0) }).toEqual({
        sequence,
        past: true,
      });
    }
  });

  it('keeps the domains (including the non-ASCII one), the enum and the partitioning', async () => {
    const { rows } = await target.query<{ name: string }>(
      `SELECT t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = 'public' AND t.typtype IN ('d', 'e') ORDER BY 1`,
    );
    expect(rows.map((row) => row.name)).toEqual(['bıgınt', 'mpaa_rating', 'year']);
    const partitions = await target.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.payment'::regclass`,
    );
    expect(partitions.rows[0]?.n).toBe(7);
    await expect(
      target.query(
        `INSERT INTO public.film (title, language_id, release_year, fulltext) VALUES ('x', 1, 1800, '')`,
      ),
    ).rejects.toThrow(/year_check/);
  });

  it('recreates views, functions, the aggregate and the triggers, and lists nothing as uncaptured', async () => {
    const manifest = await inspectSnapshot(roundTrip.store, 'latest');
    expect(manifest.schema.uncaptured).toEqual([]);
    const { rows } = await target.query<{ views: number; functions: number; triggers: number }>(
      `SELECT (SELECT count(*)::int FROM pg_views WHERE schemaname = 'public') AS views,
              (SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'public'::regnamespace) AS functions,
              (SELECT count(*)::int FROM pg_trigger WHERE NOT tgisinternal) AS triggers`,
    );
    expect(rows[0]).toEqual({ views: 7, functions: 10, triggers: 15 });
    const { rows: grouped } = await target.query<{ names: string }>(
      'SELECT public.group_concat(name ORDER BY name) AS names FROM public.category WHERE category_id <= 3',
    );
    expect(grouped[0]?.names).toBe('Action, Animation, Children');
  });
});
