import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config-loader.js';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import type { ExportResult } from '../../core/export/export-snapshot.js';
import type { Manifest } from '../../core/manifest.js';
import { inspectSnapshot } from '../../core/snapshot-catalog.js';
import { planExport } from '../../core/subset/plan-export.js';
import type { SubsetPlan } from '../../core/subset/subset-plan.js';
import { runDevsnap } from '../support/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { exportAndImport, type RoundTrip } from '../support/export-and-import.js';
import { loadPagila } from '../support/sql-script.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The scenario, as a team would write it in devsnap.config.ts. */
const CONFIG_FILE = `
import { defineConfig } from '${ROOT}/core/config/devsnap-config.ts';
import { allRows, latest, randomSample } from '${ROOT}/strategies/index.ts';

export default defineConfig({
  tables: {
    'public.rental': [latest(500, { orderBy: 'rental_date' })],
    'public.customer': [randomSample({ count: 20, seed: 7 })],
    'public.film': [allRows()],
  },
  foreignKeys: { policies: { 'public.rental.rental_customer_id_fkey': 'include-parents' } },
  // Pagila's names and emails have no rules here: this test is about the subset, not anonymisation.
  anonymise: { mode: 'warn' },
});
`;

describe('Pagila: the latest 500 rentals, 20 random customers and every film', () => {
  let source: TestDatabase;
  let roundTrip: RoundTrip;
  let configDir: string;
  let configPath: string;
  let config: DevsnapConfig;
  let exported: ExportResult;
  let manifest: Manifest;
  let plan: SubsetPlan;
  let target: pg.Client;

  beforeAll(async () => {
    source = await createTestDatabase('subset_pagila_src');
    await loadPagila(source.client);
    configDir = await mkdtemp(join(tmpdir(), 'devsnap-subset-config-'));
    configPath = join(configDir, 'devsnap.config.ts');
    await writeFile(configPath, CONFIG_FILE);
    config = (await loadConfig(configPath)).config;
    plan = await planExport({ databaseUrl: source.url, config });
    // drop-database: the copy gets every key, unique and foreign-key constraint of the source.
    roundTrip = await exportAndImport(source, { config, targetPrefix: 'subset_pagila_dst' });
    exported = roundTrip.exported;
    manifest = await inspectSnapshot(roundTrip.store, 'latest');
    target = roundTrip.target.client;
  });
  afterAll(async () => {
    await roundTrip?.remove();
    await source.drop();
    await rm(configDir, { recursive: true, force: true });
  });

  const rowsIn = (table: string) => exported.tables.find((t) => t.table === table)?.rows;
  const idsOf = async (client: pg.Client, sql: string) =>
    (await client.query<{ id: number }>(sql)).rows.map((row) => row.id);

  it('exports the latest 500 rentals, their customers and payments, and every film', async () => {
    expect(await idsOf(target, 'SELECT rental_id AS id FROM public.rental ORDER BY 1')).toEqual(
      await idsOf(
        source.client,
        'SELECT rental_id AS id FROM (SELECT rental_id FROM public.rental ORDER BY rental_date DESC, rental_id LIMIT 500) r ORDER BY 1',
      ),
    );
    const rentalCustomers = await idsOf(
      target,
      'SELECT DISTINCT customer_id AS id FROM public.rental ORDER BY 1',
    );
    const customers = await idsOf(target, 'SELECT customer_id AS id FROM public.customer ORDER BY 1');
    expect(customers).toEqual(expect.arrayContaining(rentalCustomers));
    // The 20 sampled customers, plus those of the rentals (some overlap).
    expect(customers.length).toBeGreaterThan(rentalCustomers.length);
    expect(customers.length).toBeLessThanOrEqual(rentalCustomers.length + 20);
    expect(rowsIn('public.film')).toBe(1000);
    // Payments are kept only where their rental and customer are: the 500 rentals' payments.
    expect(await idsOf(target, 'SELECT payment_id AS id FROM public.payment ORDER BY 1')).toEqual(
      await idsOf(
        source.client,
        `SELECT payment_id AS id FROM public.payment WHERE rental_id IN
           (SELECT rental_id FROM public.rental ORDER BY rental_date DESC, rental_id LIMIT 500) ORDER BY 1`,
      ),
    );
  });

  it('imports with every foreign key in force', async () => {
    const { rows } = await target.query<{ total: number; valid: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE convalidated)::int AS valid
       FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
    );
    expect(rows[0]?.total).toBeGreaterThanOrEqual(25);
    expect(rows[0]?.valid).toBe(rows[0]?.total);
  });

  it('records strategies and what each foreign-key policy did in the manifest', () => {
    const table = (name: string) => manifest.tables.find((t) => `${t.schema}.${t.name}` === name);
    expect(table('public.rental')?.strategies).toEqual([{ name: 'latest', rows: 500 }]);
    expect(table('public.customer')?.strategies).toEqual([{ name: 'random-sample', rows: 20 }]);
    const included = table('public.rental')?.policies.find(
      (p) => p.foreignKey === 'public.rental.rental_customer_id_fkey',
    );
    expect(included).toMatchObject({ policy: 'include-parents', references: 'public.customer', dropped: 0 });
    expect((included?.included ?? 0) + 20).toBeGreaterThanOrEqual(table('public.customer')?.rows ?? 0);
    const payment = table('public.payment');
    const dropped = payment?.policies.reduce((sum, p) => sum + p.dropped, 0);
    expect((payment?.rows ?? 0) + (dropped ?? 0)).toBe(16049);
    expect(payment?.policies.every((p) => p.policy === 'restrict' && p.nulled === 0)).toBe(true);
  });

  it('plans within 20% of the rows exported, table by table, and says why', () => {
    for (const { table, estimatedRows } of plan.tables) {
      const actual = rowsIn(table) ?? 0;
      expect({
        table,
        estimatedRows,
        withinAFifth: Math.abs(estimatedRows - actual) <= 0.2 * actual,
      }).toEqual({
        table,
        estimatedRows,
        withinAFifth: true,
      });
    }
    expect(Math.abs(plan.estimatedRows - exported.totalRows)).toBeLessThanOrEqual(0.2 * exported.totalRows);
    const customer = plan.tables.find((t) => t.table === 'public.customer');
    expect(customer?.reasons).toEqual([
      'configured: "random-sample" picks random 20 rows (seed 7)',
      'include-parents on public.rental.rental_customer_id_fkey adds rows that selected public.rental rows reference',
    ]);
    // Pagila declares payment's keys on six of its seven partitions (not on payment_p2022_07); they
    // are lifted to public.payment and apply to all of its rows, which can only keep more keys intact.
    const payment = plan.tables.find((t) => t.table === 'public.payment');
    expect(payment?.foreignKeys.find((fk) => fk.references === 'public.rental')).toEqual({
      name: 'public.payment_p2022_01.payment_p2022_01_rental_id_fkey',
      references: 'public.rental',
      columns: ['rental_id'],
      policy: 'restrict',
      declaredOn: [1, 2, 3, 4, 5, 6].map((month) => `public.payment_p2022_0${month}`),
      virtual: null,
    });
  });

  it('devsnap plan prints the same plan, as text and as JSON', async () => {
    const json = await runDevsnap(['plan', '--database-url', source.url, '--config', configPath, '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ ok: true, command: 'plan', estimatedRows: plan.estimatedRows });
    expect(parsed.tables.map((t: { table: string }) => t.table)).toEqual(plan.tables.map((t) => t.table));
    const text = await runDevsnap(['plan', '--database-url', source.url, '--config', configPath]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^About [\d,]+ rows in 15 tables\./);
    expect(text.stdout).toMatch(/public\.rental\s+500\s+16,044\s+latest: latest 500 by rental_date/);
    expect(text.stdout).toContain('restrict on public.payment_p2022_01.payment_p2022_01_rental_id_fkey');
    const missing = await runDevsnap([
      'plan',
      '--database-url',
      source.url,
      '--config',
      join(configDir, 'nope.ts'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.ts does not exist/);
  });
});
