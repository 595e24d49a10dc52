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
import { type FakeOptions, fake } from '../../strategies/anonymisers/fake-anonymiser.js';
import { type MaskOptions, mask } from '../../strategies/anonymisers/mask-anonymiser.js';
import { type FactoryOptions, factory } from '../../strategies/factory-strategy.js';
import { type LatestOptions, latest } from '../../strategies/latest-strategy.js';
import { type RandomSampleOptions, randomSample } from '../../strategies/random-sample-strategy.js';
import { runDevsnap } from '../support/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
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
      'foreignKeys.policies.public.orders.orders_user_fkey: no foreign key of that name or on those columns (use schema.table.constraint_name or schema.table.column) (did you mean "public.orders.orders_user_id_fkey"?)',
    );
    expect(message).toContain('nullify needs nullable columns, but order_id, line_no are NOT NULL');
  });

  it('refuses unknown strategy and anonymiser options with a did-you-mean, and names missing ones, one line each', () => {
    const config = {
      tables: {
        'public.users': [randomSample({ count: 5, sede: 7 } as RandomSampleOptions)],
        'public.orders': [latest(50, undefined as unknown as LatestOptions)],
        'public.order_items': [
          factory({ cont: 3 } as unknown as FactoryOptions),
          allRows({ nmae: 'x' } as unknown as { name: string }),
        ],
      },
      anonymise: {
        rules: {
          'public.users.email': fake('internet.email', { local: 'de' } as FakeOptions),
          'public.users.first_name': mask({ keep: 2 } as MaskOptions),
        },
      },
    };
    expect(() => resolveConfig(config, model)).toThrow(
      [
        'The devsnap config has 7 problems:',
        '  tables.public.order_items (factory): factory: unknown option cont (did you mean "count"?)',
        '  tables.public.order_items (factory): factory: missing option count; pass { count: … }',
        '  tables.public.order_items (all-rows): allRows: unknown option nmae (did you mean "name"?)',
        '  tables.public.orders (latest): latest(50): missing option orderBy; pass { orderBy: … }',
        '  tables.public.users (random-sample): randomSample: unknown option sede (did you mean "seed"?)',
        '  anonymise.rules.public.users.email (public.users.email): fake(): unknown option local (did you mean "locale"?)',
        '  anonymise.rules.public.users.first_name (public.users.first_name): mask(): unknown option keep (it takes keepLast, char, preserveNulls, allow)',
      ].join('\n'),
    );
  });

  it('addresses policies by columns as well as by constraint name, partitions and composites included', () => {
    const resolved = resolveConfig(
      defineConfig({
        foreignKeys: {
          policies: {
            'public.orders.user_id': 'include-parents',
            'public.shipments.(order_id, line_no)': 'include-parents',
            'public.users.manager_id': 'nullify',
          },
        },
      }),
      model,
    );
    const table = (name: string) => model.tables.find((t) => t.name === name)!;
    expect(resolved.policyFor(table('orders'), table('orders').foreignKeys[0]!)).toBe('include-parents');
    expect(resolved.policyFor(table('shipments'), table('shipments').foreignKeys[0]!)).toBe(
      'include-parents',
    );
    expect(resolved.policyFor(table('users'), table('users').foreignKeys[0]!)).toBe('nullify');
    expect(() =>
      resolveConfig({ foreignKeys: { policies: { 'public.orders.user': 'restrict' } } }, model),
    ).toThrow(
      'The devsnap config has 1 problem: foreignKeys.policies.public.orders.user: no foreign key of that name or on those columns (use schema.table.constraint_name or schema.table.column) (did you mean "public.orders.user_id"?)',
    );
    expect(() =>
      resolveConfig({ foreignKeys: { policies: { 'public.orders.user_id': 'nullify' } } }, model),
    ).toThrow(
      'foreignKeys.policies.public.orders.user_id: nullify needs nullable columns, but user_id is NOT NULL',
    );
  });

  it('with requireStrategies, lists every table the config does not name, and still allows defaultStrategy without it', () => {
    const message = (() => {
      try {
        resolveConfig(
          { requireStrategies: true, tables: { users: [allRows()], orders: [allRows()] } },
          model,
        );
      } catch (caught) {
        return (caught as Error).message;
      }
      throw new Error('expected a failure');
    })();
    const unnamed = model.tables
      .filter((t) => t.partitionRoot === null && !['users', 'orders'].includes(t.name))
      .map((t) => `${t.schema}.${t.name}`)
      .sort();
    expect(unnamed.length).toBeGreaterThan(2);
    expect(message).toMatch(
      new RegExp(`tables: ${unnamed.length} tables have no strategies and requireStrategies is on: `),
    );
    for (const name of unnamed) expect(message).toContain(name);
    expect(() =>
      resolveConfig({ requireStrategies: true, defaultStrategy: allRows(), tables: {} }, model),
    ).toThrow('requireStrategies: true leaves defaultStrategy unused');
    expect(resolveConfig({ defaultStrategy: allRows() }, model).tables.get('public.orders')?.reason).toBe(
      'default strategy',
    );
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

describe('an ambiguous column-addressed policy', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('config_ambiguous');
    await db.client.query(`
      CREATE TABLE public.person (id int PRIMARY KEY);
      CREATE TABLE public.team (id int PRIMARY KEY);
      CREATE TABLE public.note (id int PRIMARY KEY, owner_id int REFERENCES public.person (id));
      ALTER TABLE public.note ADD CONSTRAINT note_owner_team FOREIGN KEY (owner_id) REFERENCES public.team (id);
    `);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('stops with one line naming both keys, and a non-zero exit', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'devsnap-config-'));
    try {
      const file = join(directory, 'devsnap.config.ts');
      await writeFile(
        file,
        "export default { foreignKeys: { policies: { 'public.note.owner_id': 'include-parents' } } };\n",
      );
      const run = await runDevsnap(['plan', '--database-url', db.url, '--config', file]);
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(
        'devsnap: The devsnap config has 1 problem: foreignKeys.policies.public.note.owner_id: ambiguous, it fits note_owner_id_fkey (owner_id → public.person) and note_owner_team (owner_id → public.team); name one as schema.table.constraint_name',
      );
      expect(run.stderr).not.toMatch(/\n\s+at /);
      // By constraint name it resolves.
      const named = join(directory, 'named.config.ts');
      await writeFile(
        named,
        "export default { anonymise: { mode: 'warn' }, foreignKeys: { policies: { 'public.note.note_owner_team': 'include-parents' } } };\n",
      );
      const resolved = await runDevsnap(['plan', '--database-url', db.url, '--config', named]);
      expect(resolved.stderr).toBe('');
      expect(resolved.code).toBe(0);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
