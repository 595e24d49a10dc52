import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config-loader.js';
import { defineConfig } from '../../core/config/devsnap-config.js';
import { resolveConfig } from '../../core/config/resolve-config.js';
import { UsageError } from '../../core/errors.js';
import { PostgresIntrospector } from '../../core/schema/postgres-introspector.js';
import type { SchemaModel } from '../../core/schema/schema-model.js';
import { PgSource } from '../../core/source/pg-source.js';
import type { Strategy } from '../../core/subset/strategy.js';
import { allRows } from '../../strategies/all-rows-strategy.js';
import type { TestDatabase } from '../support/databases.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const where = (name: string, column: string): Strategy => ({
  name,
  describe: () => `where ${column}`,
  validate: (table) => (table.columns.some((c) => c.name === column) ? [] : [`no column ${column}`]),
  rows: () => ({ kind: 'query', where: `${column} IS NOT NULL` }),
});

describe('config resolution against the schema', () => {
  let db: TestDatabase;
  let model: SchemaModel;
  beforeAll(async () => {
    db = await createShopDatabase('config');
    const source = await PgSource.connect(db.url);
    try {
      model = await new PostgresIntrospector(source).introspect();
    } finally {
      await source.close();
    }
  });
  afterAll(async () => {
    await db.drop();
  });

  it('resolves bare and qualified table names, defaults and policies', () => {
    const resolved = resolveConfig(
      defineConfig({
        tables: { users: [allRows()], 'public.orders': { strategies: [], maxRows: 10 } },
        foreignKeys: {
          default: 'nullify',
          policies: { 'public.orders.orders_user_id_fkey': 'include-parents' },
        },
      }),
      model,
    );
    expect(resolved.tables.get('public.users')?.reason).toBe('configured');
    expect(resolved.tables.get('public.orders')).toMatchObject({ strategies: [], maxRows: 10 });
    expect(resolved.tables.get('public.shipments')?.reason).toBe('default strategy');
    expect(resolved.tables.has('public.events_2025')).toBe(false);
    const orders = model.tables.find((t) => t.name === 'orders')!;
    const users = model.tables.find((t) => t.name === 'users')!;
    expect(resolved.policyFor(orders, orders.foreignKeys[0]!)).toBe('include-parents');
    // The nullify default applies to nullable keys only.
    expect(resolved.policyFor(users, users.foreignKeys[0]!)).toBe('nullify');
    const shipments = model.tables.find((t) => t.name === 'shipments')!;
    expect(resolved.policyFor(shipments, shipments.foreignKeys[0]!)).toBe('restrict');
    expect(resolved.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lists every problem at once, with did-you-mean suggestions', () => {
    const error = (() => {
      try {
        resolveConfig(
          defineConfig({
            tables: {
              'public.user': [allRows()],
              'public.events_2025': [allRows()],
              'public.orders': [where('a', 'note'), where('a', 'totl')],
            },
            foreignKeys: {
              policies: {
                'public.orders.orders_user_fkey': 'restrict',
                'public.shipments.shipments_order_id_line_no_fkey': 'nullify',
              },
            },
          }),
          model,
        );
      } catch (caught) {
        return caught;
      }
      throw new Error('expected a failure');
    })();
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toMatch(/^The devsnap config has 6 problems:/);
    expect(message).toContain('tables.public.user: no table of that name (did you mean "public.users"?)');
    expect(message).toContain(
      'tables.public.events_2025: is a partition; configure its partitioned table public.events instead',
    );
    expect(message).toContain('tables.public.orders: two strategies are named "a"');
    expect(message).toContain('tables.public.orders (a): no column totl');
    expect(message).toContain(
      'foreignKeys.policies.public.orders.orders_user_fkey: no foreign key of that name (use schema.table.constraint_name) (did you mean "public.orders.orders_user_id_fkey"?)',
    );
    expect(message).toContain('nullify needs nullable columns, but order_id, line_no are NOT NULL');
  });

  it('rejects values of the wrong shape before looking at the schema', () => {
    expect(() =>
      resolveConfig({ maxRows: { total: -1 }, foreignKeys: { default: 'cascade' as 'restrict' } }, model),
    ).toThrow(
      /2 problems:\n.*foreignKeys\.default: Invalid option: .*"restrict".*\n\s+maxRows\.total: Too small/,
    );
  });

  it('loads a TypeScript config file and explains a missing one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'devsnap-config-'));
    try {
      await writeFile(
        join(directory, 'devsnap.config.ts'),
        'export default { maxRows: { total: 5 } satisfies Record<string, number> };\n',
      );
      expect((await loadConfig(undefined, directory)).config).toEqual({ maxRows: { total: 5 } });
      expect(await loadConfig(undefined, tmpdir())).toEqual({ config: {}, path: null });
      await expect(loadConfig('nope.config.ts', directory)).rejects.toThrow(
        /nope\.config\.ts does not exist/,
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
