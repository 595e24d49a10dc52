/**
 * `devsnap plan` is within ±25% of the rows an export takes, for every table of 100 rows or more,
 * under restrict, on Pagila and on the Django application. Both are small enough for the plan to
 * count over keys (exact); the rough estimates from statistics are measured too and printed, so
 * their accuracy is on record, but only the exact ones are held to the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { planExport } from '../../core/subset/plan-export.js';
import { latest, randomSample, where } from '../../strategies/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createDjangoDatabase } from '../support/django-app.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { loadPagila } from '../support/sql-script.js';

const PAGILA: DevsnapConfig = {
  tables: {
    'public.rental': [latest(500, { orderBy: 'rental_date' })],
    'public.customer': [randomSample({ count: 200, seed: 7 })],
    'public.film': [randomSample({ percent: 50, seed: 3 })],
  },
  foreignKeys: { default: 'restrict' },
  anonymise: { mode: 'warn' },
};

const DJANGO: DevsnapConfig = {
  tables: {
    'public.auth_user': [randomSample({ count: 50, seed: 11 }), where('t.is_staff', [], { name: 'staff' })],
    'public.shop_post': [latest(100, { orderBy: '-published_at' })],
  },
  foreignKeys: { default: 'restrict' },
  anonymise: { mode: 'warn' },
};

interface Accuracy {
  readonly table: string;
  readonly exported: number;
  readonly exact: number;
  readonly rough: number;
}

async function measure(db: TestDatabase, store: TemporaryStore, config: DevsnapConfig): Promise<Accuracy[]> {
  const exported = await exportSnapshot({ databaseUrl: db.url, store, config });
  const exact = await planExport({ databaseUrl: db.url, config });
  const rough = await planExport({ databaseUrl: db.url, config, exactReadRows: 0 });
  expect(exact.tables.every((t) => t.estimate === 'exact')).toBe(true);
  expect(rough.tables.every((t) => t.estimate === 'rough')).toBe(true);
  return exported.tables.map(({ table, rows }) => ({
    table,
    exported: rows,
    exact: exact.tables.find((t) => t.table === table)?.estimatedRows ?? -1,
    rough: rough.tables.find((t) => t.table === table)?.estimatedRows ?? -1,
  }));
}

function report(name: string, rows: readonly Accuracy[]): void {
  const ratio = (estimate: number, actual: number) =>
    actual === 0 ? (estimate === 0 ? '1.00' : 'n/a') : (estimate / actual).toFixed(2);
  process.stderr.write(
    `plan accuracy, ${name} (table: exported / exact plan / rough plan, ratio):\n${rows
      .map(
        (r) =>
          `  ${r.table}: ${r.exported} / ${r.exact} / ${r.rough} (${ratio(r.exact, r.exported)}, ${ratio(r.rough, r.exported)})`,
      )
      .join('\n')}\n`,
  );
}

function expectWithinAQuarter(rows: readonly Accuracy[]): void {
  for (const row of rows.filter((r) => r.exported >= 100)) {
    expect({ table: row.table, within: Math.abs(row.exact - row.exported) <= 0.25 * row.exported }).toEqual({
      table: row.table,
      within: true,
    });
  }
}

describe('plan estimates against the rows exported, under restrict', () => {
  let store: TemporaryStore;
  beforeAll(async () => {
    store = await temporaryStore();
  });
  afterAll(async () => {
    await store.remove();
  });

  it('Pagila: every table of 100 rows or more within ±25%', async () => {
    const db = await createTestDatabase('plan_pagila');
    try {
      await loadPagila(db.client);
      const rows = await measure(db, store, PAGILA);
      report('Pagila', rows);
      expect(rows.filter((r) => r.exported >= 100).length).toBeGreaterThanOrEqual(5);
      expectWithinAQuarter(rows);
    } finally {
      await db.drop();
    }
  });

  it('the Django application: every table of 100 rows or more within ±25%', async () => {
    const db = await createDjangoDatabase();
    try {
      const rows = await measure(db, store, DJANGO);
      report('Django', rows);
      expect(rows.filter((r) => r.exported >= 100).length).toBeGreaterThanOrEqual(5);
      expectWithinAQuarter(rows);
    } finally {
      await db.drop();
    }
  });
});
