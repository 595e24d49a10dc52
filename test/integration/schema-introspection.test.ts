import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresIntrospector } from '../../core/schema/postgres-introspector.js';
import type { SchemaModel, TableInfo } from '../../core/schema/schema-model.js';
import { PgSource } from '../../core/source/pg-source.js';
import type { Queryable, SqlParameter } from '../../core/source/queryable.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const FIXTURE = new URL('../fixtures/kitchen-sink-schema.sql', import.meta.url);

function queryable(client: pg.Client): Queryable {
  return {
    query: async (sql, params) => (await client.query(sql, params as SqlParameter[] | undefined)).rows,
  };
}

function table(model: SchemaModel, schema: string, name: string): TableInfo {
  const found = model.tables.find((t) => t.schema === schema && t.name === name);
  if (!found) throw new Error(`no table ${schema}.${name} in the model`);
  return found;
}

function column(t: TableInfo, name: string) {
  const found = t.columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name} in ${t.name}`);
  return found;
}

describe('PostgresIntrospector on the kitchen-sink fixture', () => {
  let db: TestDatabase;
  let model: SchemaModel;

  beforeAll(async () => {
    db = await createTestDatabase('introspect');
    await db.client.query(await readFile(FIXTURE, 'utf8'));
    model = await new PostgresIntrospector(queryable(db.client)).introspect();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('lists the schemas holding captured objects and a server version', () => {
    expect(model.schemas).toEqual(['public', 'sales']);
    expect(model.serverVersion).toMatch(/^\d+\.\d+/);
  });

  it('reads composite primary keys and composite foreign keys by column name', () => {
    const orderLine = table(model, 'public', 'order_line');
    expect(orderLine.primaryKey).toEqual({
      name: 'order_line_pkey',
      columns: ['region', 'order_no', 'line'],
      definition: 'PRIMARY KEY (region, order_no, line)',
    });
    const orderFk = orderLine.foreignKeys.find((fk) => fk.name === 'order_line_order_fkey');
    expect(orderFk).toEqual({
      name: 'order_line_order_fkey',
      columns: ['region', 'order_no'],
      referencedTable: { schema: 'public', name: 'orders' },
      referencedColumns: ['region', 'order_no'],
      definition:
        'FOREIGN KEY (region, order_no) REFERENCES public.orders(region, order_no) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED',
    });
  });

  it('reads a foreign key to a unique non-key column and a self-reference', () => {
    const orders = table(model, 'public', 'orders');
    expect(orders.foreignKeys.map((fk) => [fk.columns, fk.referencedTable, fk.referencedColumns])).toEqual([
      [['customer_email'], { schema: 'public', name: 'customer' }, ['email']],
    ]);
    const customer = table(model, 'public', 'customer');
    expect(customer.uniqueConstraints).toEqual([
      { name: 'customer_email_key', columns: ['email'], definition: 'UNIQUE (email)' },
    ]);
    expect(customer.foreignKeys).toEqual([
      expect.objectContaining({
        columns: ['referred_by'],
        referencedTable: { schema: 'public', name: 'customer' },
        referencedColumns: ['id'],
      }),
    ]);
  });

  it('reads identity, serial, generated and collated columns', () => {
    const customer = table(model, 'public', 'customer');
    expect(column(customer, 'id')).toMatchObject({
      identity: 'always',
      defaultExpression: null,
      nullable: false,
    });
    expect(column(customer, 'name')).toMatchObject({ collation: '"C"', nullable: true });
    expect(column(customer, 'email').collation).toBeNull();
    expect(column(table(model, 'public', 'product'), 'id').identity).toBe('by-default');
    const orderLine = table(model, 'public', 'order_line');
    expect(column(orderLine, 'line')).toMatchObject({
      identity: null,
      defaultExpression: "nextval('public.order_line_line_seq'::regclass)",
    });
    expect(column(orderLine, 'total')).toMatchObject({
      generatedExpression: '((quantity)::numeric * unit_price)',
      defaultExpression: null,
      position: 7,
    });
  });

  it('resolves domains to their storage type, arrays of domains to the base array type', () => {
    const product = table(model, 'public', 'product');
    expect(column(product, 'stock')).toMatchObject({
      dataType: 'public.positive_int',
      baseType: 'int4',
      isArray: false,
    });
    expect(column(product, 'shelf')).toMatchObject({ dataType: 'public.small_positive', baseType: 'int4' });
    expect(column(product, 'tags')).toMatchObject({
      dataType: 'public.positive_int[]',
      baseType: '_int4',
      isArray: true,
    });
    expect(column(product, 'sku')).toMatchObject({ dataType: 'public.code', baseType: 'varchar' });
    expect(column(table(model, 'public', 'customer'), 'mood')).toMatchObject({
      dataType: 'public.cheerful',
      baseType: 'mood',
    });
    expect(column(table(model, 'sales', 'OrderArchive'), 'mood')).toMatchObject({
      dataType: 'public.mood[]',
      baseType: '_mood',
      isArray: true,
      defaultExpression: "ARRAY['ok'::public.mood]",
    });
  });

  it('reads sequences: free, serial-owned, explicitly owned and identity, with options and state', () => {
    const sequence = (name: string) => model.sequences.find((s) => s.name === name);
    expect(sequence('invoice_number')).toEqual({
      schema: 'public',
      name: 'invoice_number',
      dataType: 'bigint',
      start: '1000',
      increment: '10',
      min: '1000',
      max: '9223372036854775807',
      cache: '1',
      cycle: false,
      ownedBy: null,
      identity: false,
      lastValue: '1010',
      defaultOf: [{ schema: 'public', name: 'product', column: 'invoice' }],
    });
    expect(sequence('countdown')).toMatchObject({
      dataType: 'smallint',
      start: '400',
      increment: '-2',
      min: '-500',
      max: '500',
      cache: '4',
      cycle: true,
      lastValue: null,
    });
    expect(sequence('order_line_line_seq')).toMatchObject({
      ownedBy: { schema: 'public', name: 'order_line', column: 'line' },
      identity: false,
    });
    expect(sequence('ticket_seq')).toMatchObject({
      increment: '7',
      ownedBy: { schema: 'public', name: 'ticket', column: 'id' },
      identity: false,
    });
    expect(sequence('customer_id_seq')).toMatchObject({
      start: '100',
      increment: '5',
      ownedBy: { schema: 'public', name: 'customer', column: 'id' },
      identity: true,
    });
    expect(sequence('product_ids')).toMatchObject({
      min: '10',
      max: '999999',
      cache: '3',
      cycle: true,
      identity: true,
    });
  });

  it('reads enum labels in sort order and domains with their checks', () => {
    expect(model.enums).toEqual([{ schema: 'public', name: 'mood', labels: ['sad', 'meh', 'ok', 'happy'] }]);
    const domain = (name: string) => model.domains.find((d) => d.name === name);
    expect(domain('positive_int')).toEqual({
      schema: 'public',
      name: 'positive_int',
      baseType: 'integer',
      notNull: false,
      defaultExpression: null,
      collation: null,
      checks: [
        { name: 'below_a_million', definition: 'CHECK ((VALUE < 1000000))' },
        { name: 'positive', definition: 'CHECK ((VALUE > 0))' },
      ],
    });
    expect(domain('cheerful')).toMatchObject({
      baseType: 'public.mood',
      notNull: true,
      defaultExpression: "'happy'::public.mood",
      checks: [{ name: 'cheerful_check', definition: "CHECK ((VALUE <> 'sad'::public.mood))" }],
    });
    expect(domain('code')).toMatchObject({ baseType: 'character varying(12)', collation: '"C"' });
    expect(domain('small_positive')?.baseType).toBe('public.positive_int');
  });

  it('reads a two-level partitioned table: keys, bounds and the top-level root', () => {
    const parent = table(model, 'public', 'measurement');
    expect(parent).toMatchObject({
      kind: 'partitioned',
      partitionKey: 'RANGE (taken_on)',
      partitionOf: null,
      partitionRoot: null,
    });
    expect(parent.primaryKey?.columns).toEqual(['id', 'taken_on', 'sensor']);
    expect(parent.indexes).toEqual([
      {
        name: 'measurement_sensor_idx',
        definition:
          'CREATE INDEX measurement_sensor_idx ON ONLY public.measurement USING btree (sensor, taken_on)',
      },
    ]);
    expect(table(model, 'public', 'measurement_2024')).toMatchObject({
      kind: 'partitioned',
      partitionKey: 'LIST (sensor)',
      partitionOf: { schema: 'public', name: 'measurement' },
      partitionBound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
      partitionRoot: { schema: 'public', name: 'measurement' },
    });
    const north = table(model, 'public', 'measurement_2024_north');
    expect(north).toMatchObject({
      kind: 'table',
      partitionKey: null,
      partitionOf: { schema: 'public', name: 'measurement_2024' },
      partitionBound: "FOR VALUES IN ('north', 'n')",
      partitionRoot: { schema: 'public', name: 'measurement' },
    });
    // The cloned key and the attached child index belong to the parent.
    expect(north.primaryKey).toBeNull();
    expect(north.indexes).toEqual([]);
    expect(table(model, 'public', 'measurement_2024_other')).toMatchObject({
      partitionBound: 'DEFAULT',
      checkConstraints: [{ name: 'other_not_north', definition: "CHECK ((sensor <> 'north'::text))" }],
    });
    const attached = table(model, 'public', 'measurement_2025');
    expect(attached.indexes.map((index) => index.name)).toEqual(['measurement_2025_reading_idx']);
    expect(column(attached, 'reading')).toMatchObject({ defaultExpression: null, nullable: false });
  });

  it('reads quoted names in another schema, tables without a key and UNLOGGED tables', () => {
    const archive = table(model, 'sales', 'OrderArchive');
    expect(archive.columns.map((c) => c.name)).toEqual(['order', 'Region', 'archived_on', 'mood']);
    expect(archive.primaryKey).toEqual({
      name: 'OrderArchive_pkey',
      columns: ['order'],
      definition: 'PRIMARY KEY ("order")',
    });
    expect(table(model, 'sales', 'archive_note').foreignKeys[0]).toMatchObject({
      referencedTable: { schema: 'sales', name: 'OrderArchive' },
      referencedColumns: ['order'],
    });
    const auditLog = table(model, 'public', 'audit_log');
    expect(auditLog).toMatchObject({ primaryKey: null, unlogged: true, estimatedRows: -1 });
    expect(table(model, 'public', 'customer').unlogged).toBe(false);
  });

  it('reads check constraints, partial and expression indexes', () => {
    expect(table(model, 'public', 'product').checkConstraints).toEqual([
      { name: 'product_price_check', definition: 'CHECK ((price >= (0)::numeric))' },
      { name: 'product_stock_price', definition: 'CHECK (((stock IS NULL) OR (price > (0)::numeric)))' },
    ]);
    expect(table(model, 'public', 'orders').checkConstraints).toEqual([
      { name: 'orders_order_no_positive', definition: 'CHECK ((order_no > 0)) NOT VALID' },
    ]);
    expect(table(model, 'public', 'customer').indexes).toEqual([
      {
        name: 'customer_lower_email_idx',
        definition:
          'CREATE UNIQUE INDEX customer_lower_email_idx ON public.customer USING btree (lower(email))',
      },
      {
        name: 'customer_referred_created_idx',
        definition:
          'CREATE INDEX customer_referred_created_idx ON public.customer USING btree (created_at) WHERE (referred_by IS NOT NULL)',
      },
    ]);
  });

  it('lists the view, function and trigger it does not capture, and nothing else', () => {
    expect(model.uncaptured).toEqual([
      { kind: 'function', schema: 'public', name: 'touch_placed_at()' },
      { kind: 'trigger', schema: 'public', name: 'orders_touch', table: 'orders' },
      { kind: 'view', schema: 'public', name: 'customer_names' },
    ]);
  });

  it('returns frozen objects', () => {
    expect(Object.isFrozen(model)).toBe(true);
    expect(Object.isFrozen(model.tables)).toBe(true);
    expect(Object.isFrozen(table(model, 'public', 'customer').columns[0])).toBe(true);
    expect(Object.isFrozen(model.sequences.find((s) => s.ownedBy)?.ownedBy)).toBe(true);
    expect(Object.isFrozen(model.enums[0]?.labels)).toBe(true);
  });

  it('works through PgSource inside its read-only transaction and puts the settings back', async () => {
    const source = await PgSource.connect(db.url);
    try {
      const before = await source.query<{ search_path: string }>('SHOW search_path');
      const throughSource = await new PostgresIntrospector(source).introspect();
      expect(throughSource).toEqual(model);
      expect(await source.query('SHOW search_path')).toEqual(before);
    } finally {
      await source.close();
    }
  });

  it('reports row estimates once the table is analysed', async () => {
    await db.client.query(
      "INSERT INTO public.ticket (subject) SELECT 'ticket ' || i FROM generate_series(1, 25) i",
    );
    await db.client.query('ANALYZE public.ticket');
    const analysed = await new PostgresIntrospector(queryable(db.client)).introspect();
    expect(table(analysed, 'public', 'ticket').estimatedRows).toBe(25);
  });
});

describe('PostgresIntrospector and extensions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('introspect_ext');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('lists an extension but none of the objects it owns', async ({ skip }) => {
    const { rows } = await db.client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'citext'");
    if (rows.length === 0) skip('citext is not installed on this server');
    await db.client.query('CREATE EXTENSION citext');
    await db.client.query('CREATE TABLE public.account (login public.citext PRIMARY KEY)');
    const model = await new PostgresIntrospector(queryable(db.client)).introspect();
    expect(model.uncaptured).toEqual([
      { kind: 'extension', schema: 'public', name: 'citext', detail: expect.stringMatching(/^version /) },
    ]);
    expect(model.domains).toEqual([]);
    expect(model.tables.map((t) => t.name)).toEqual(['account']);
    expect(model.tables[0]?.columns[0]).toMatchObject({ dataType: 'public.citext', baseType: 'citext' });
  });
});
