import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConfig } from '../../core/config/devsnap-config.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { factory } from '../../strategies/factory-strategy.js';
import {
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../support/databases.js';
import { type TemporaryStore, tableFingerprints, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const yes = async () => true;

const config = defineConfig({
  tables: {
    // Five made-up users (emails unique by construction) besides the 200 exported ones.
    users: [
      factory({
        count: 5,
        fields: {
          email: (faker, { index }) => `${faker.internet.username().toLowerCase()}.${index}@example.test`,
          first_name: (faker) => faker.person.firstName(),
          tags: () => ['generated', null],
          // Left out, it would take its default now(): different on every import.
          created_at: (faker) => faker.date.past({ refDate: '2026-01-01T00:00:00Z' }),
        },
      }),
    ],
    // Orders whose user_id is left to the factory: it points at imported (or generated) users.
    'public.orders': [
      factory({ count: 40, seed: 7, fields: { total: (faker) => faker.number.int({ max: 999 }) } }),
    ],
    // Shipments: a composite foreign key to order_items, filled from imported rows.
    shipments: [
      factory({ count: 50, fields: { shipped_on: (faker) => faker.date.past({ refDate: '2026-01-01' }) } }),
    ],
  },
});

describe('factory strategies fill tables at import, alongside sampled rows', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  const targets: string[] = [];

  beforeAll(async () => {
    source = await createShopDatabase('factory_src');
    store = await temporaryStore();
    // Fidelity of the load path is tested here, not anonymisation.
    await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } });
  });
  afterAll(async () => {
    for (const target of targets) await dropDatabase(target);
    await source.drop();
    await store.remove();
  });

  async function importWithFactories(): Promise<Record<string, { rows: number; hash: string }>> {
    const target = uniqueDatabaseName('factory_dst');
    targets.push(target);
    const result = await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: yes, config });
    expect(result.tables.find((t) => t.table === 'public.shipments')?.rows).toBe(350);
    return withDatabase(target, async (client) => {
      // Every constraint was created over sampled and generated rows alike; check they hold.
      const dangling = await client.query(
        `SELECT count(*)::int AS n FROM public.shipments s
         WHERE NOT EXISTS (SELECT 1 FROM public.order_items i WHERE i.order_id = s.order_id AND i.line_no = s.line_no)`,
      );
      expect(dangling.rows[0]?.n).toBe(0);
      const generatedUsers = await client.query(
        `SELECT id, tags FROM public.users WHERE email LIKE '%@example.test' ORDER BY id`,
      );
      expect(generatedUsers.rows).toHaveLength(5);
      expect(Number(generatedUsers.rows[0]?.id)).toBeGreaterThan(200);
      expect(generatedUsers.rows[0]?.tags).toEqual(['generated', null]);
      const orders = await client.query(`SELECT count(*)::int AS n, max(id) AS max FROM public.orders`);
      expect(orders.rows[0]).toEqual({ n: 541, max: 9040 });
      return await tableFingerprints(client);
    });
  }

  it('generates rows that satisfy every constraint, the same rows on every import', async () => {
    const first = await importWithFactories();
    const second = await importWithFactories();
    expect(first['public.users']?.rows).toBe(205);
    expect(first['public.orders']?.rows).toBe(541);
    expect(second).toEqual(first);
  });

  it('names a table the snapshot does not have, and a required column without a generator', async () => {
    const target = uniqueDatabaseName('factory_bad');
    await expect(
      importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: yes,
        config: { tables: { 'public.order': [factory({ count: 1 })] } },
      }),
    ).rejects.toThrow(/tables\.public\.order: not in this snapshot \(did you mean "public\.orders"\?\)/);
    await expect(
      importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: yes,
        config: { tables: { users: [factory({ count: 1 })] } },
      }),
    ).rejects.toThrow(/The factory for public\.users has no value for email \(NOT NULL, no default\)/);
  });
});
