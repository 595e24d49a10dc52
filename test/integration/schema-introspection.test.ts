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
    expect(model.schemas).toEqual(['ext', 'public', 'sales']);
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

  it("reads partitions' indexes attached to their parent's, under their own names", () => {
    expect(table(model, 'public', 'measurement_2025').attachedIndexes).toEqual([
      {
        name: 'm2025_by_sensor',
        definition: 'CREATE INDEX m2025_by_sensor ON public.measurement_2025 USING btree (sensor, taken_on)',
        parentIndex: { schema: 'public', name: 'measurement_sensor_idx' },
        constraint: null,
      },
      {
        name: 'm2025_key',
        definition: expect.stringContaining('CREATE UNIQUE INDEX m2025_key ON public.measurement_2025'),
        parentIndex: { schema: 'public', name: 'measurement_pkey' },
        constraint: { name: 'm2025_key', definition: 'PRIMARY KEY (id, taken_on, sensor)' },
      },
    ]);
    expect(table(model, 'public', 'measurement_2025').primaryKey).toBeNull();
    expect(
      table(model, 'public', 'measurement_2024').attachedIndexes.map((index) => index.definition),
    ).toEqual([
      'CREATE UNIQUE INDEX measurement_2024_pkey ON ONLY public.measurement_2024 USING btree (id, taken_on, sensor)',
      'CREATE INDEX measurement_2024_sensor_taken_on_idx ON ONLY public.measurement_2024 USING btree (sensor, taken_on)',
    ]);
  });

  it('reads extensions with their schema, and collations', () => {
    expect(model.extensions).toEqual([
      { name: 'btree_gist', schema: 'ext', version: expect.any(String), requires: [] },
      { name: 'citext', schema: 'ext', version: expect.any(String), requires: [] },
    ]);
    expect(model.collations).toEqual([
      expect.objectContaining({ name: 'byte_order', provider: 'libc', lcCollate: 'C', deterministic: true }),
      expect.objectContaining({
        name: 'case_insensitive',
        provider: 'icu',
        locale: 'und-u-ks-level2',
        deterministic: false,
      }),
    ]);
    expect(column(table(model, 'public', 'booking'), 'guest')).toMatchObject({
      dataType: 'ext.citext',
      collation: 'public.case_insensitive',
    });
  });

  it('reads composite and range types', () => {
    expect(model.compositeTypes).toEqual([
      {
        schema: 'public',
        name: 'postal_address',
        attributes: [
          { name: 'street', dataType: 'text', collation: null },
          { name: 'city', dataType: 'text', collation: 'public.byte_order' },
          { name: 'zip', dataType: 'public.code', collation: null },
        ],
      },
    ]);
    expect(model.rangeTypes).toEqual([
      {
        schema: 'public',
        name: 'time_window',
        subtype: 'time without time zone',
        subtypeOpclass: null,
        collation: null,
        canonical: null,
        subtypeDiff: 'public.time_diff(time without time zone,time without time zone)',
        multirangeName: 'public.time_window_multirange',
      },
    ]);
  });

  it('reads functions, procedures and aggregates with their definitions and what they depend on', () => {
    const fn = (name: string) => {
      const found = model.functions.find((candidate) => candidate.name === name);
      if (!found) throw new Error(`no function ${name}`);
      return found;
    };
    expect(model.functions.map((f) => `${f.kind} ${f.signature}`)).toEqual([
      'function public.customer_count()',
      'procedure public.forget_orders(timestamp with time zone)',
      'function public.is_even(integer)',
      'aggregate public.mean_of(double precision)',
      'function public.named_customers()',
      'function public.next_code()',
      'aggregate public.pick(double precision,anyelement)',
      'aggregate public.product_of(numeric)',
      'function public.refuse()',
      'function public.time_diff(time without time zone,time without time zone)',
      'function public.touch_placed_at()',
    ]);
    expect(fn('is_even').definition).toBe(
      'CREATE OR REPLACE FUNCTION public.is_even(integer)\n RETURNS boolean\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT $1 % 2 = 0 $function$',
    );
    expect(fn('forget_orders').identityArguments).toBe('IN cutoff timestamp with time zone');
    // A body in SQL-standard form and a row type in a signature are dependencies pg_depend records.
    expect(fn('customer_count').dependsOn).toEqual([
      { kind: 'relation', schema: 'public', name: 'customer' },
    ]);
    expect(fn('named_customers').dependsOn).toEqual([
      { kind: 'relation', schema: 'public', name: 'customer_names' },
    ]);
    expect(fn('pick').definition).toBe(
      'CREATE OR REPLACE AGGREGATE public.pick(double precision ORDER BY anyelement) (\n    SFUNC = ordered_set_transition,\n    STYPE = internal,\n    FINALFUNC = percentile_disc_final,\n    FINALFUNC_EXTRA,\n    FINALFUNC_MODIFY = READ_WRITE\n)',
    );
    expect(fn('product_of').definition).toContain("INITCOND = '1',\n    PARALLEL = SAFE\n)");
  });

  it('reads views and materialized views: options, state, indexes and dependencies', () => {
    const view = (name: string) => model.views.find((candidate) => candidate.name === name);
    expect(model.views.map((v) => `${v.materialized ? 'materialized ' : ''}${v.name}`)).toEqual([
      'customer_initials',
      'customer_names',
      'customer_order_count',
      'happy_customers',
      'materialized mood_counts',
      'materialized order_regions',
    ]);
    expect(view('customer_initials')).toMatchObject({
      query:
        ' SELECT customer_names.id,\n    "left"(customer_names.name, 1) AS initial\n   FROM public.customer_names',
      dependsOn: [{ kind: 'relation', schema: 'public', name: 'customer_names' }],
    });
    expect(view('happy_customers')?.options).toEqual(['security_barrier=true', 'check_option=local']);
    expect(view('mood_counts')).toMatchObject({
      populated: true,
      indexes: [
        { name: 'mood_counts_mood_idx', definition: expect.stringContaining('ON public.mood_counts') },
      ],
    });
    expect(view('order_regions')?.populated).toBe(false);
  });

  it('reads triggers with their state, rules, policies and row-level security', () => {
    expect(model.triggers.map((t) => [t.table.name, t.name, t.enabled, t.clone ?? false])).toEqual([
      ['customer_names', 'customer_names_insert', 'origin', false],
      ['measurement', 'measurement_refuse', 'origin', false],
      // The partition's clone is listed because its state differs from its parent's.
      ['measurement_2025', 'measurement_refuse', 'disabled', true],
      ['orders', 'orders_refuse', 'disabled', false],
      ['orders', 'orders_touch', 'origin', false],
      ['product', 'product_check', 'origin', false],
      ['ticket', 'ticket_subject', 'origin', false],
    ]);
    expect(model.triggers.find((t) => t.name === 'ticket_subject')?.definition).toBe(
      'CREATE TRIGGER ticket_subject BEFORE INSERT ON public.ticket FOR EACH ROW WHEN ((new.subject IS NULL)) EXECUTE FUNCTION public.refuse()',
    );
    expect(model.rules).toEqual([
      expect.objectContaining({ name: 'audit_log_keep', enabled: 'origin' }),
      expect.objectContaining({ name: 'audit_log_no_update', enabled: 'disabled' }),
    ]);
    expect(model.policies).toEqual([
      {
        table: { schema: 'public', name: 'booking' },
        name: 'booking_insert',
        permissive: true,
        command: 'INSERT',
        roles: [],
        using: null,
        withCheck: '(room > 0)',
      },
      expect.objectContaining({ name: 'ticket_everyone', command: 'ALL', roles: [], using: 'true' }),
      expect.objectContaining({
        name: 'ticket_reader',
        permissive: false,
        command: 'SELECT',
        roles: ['devsnap_fixture_reader'],
      }),
    ]);
    expect(table(model, 'public', 'ticket').rowSecurity).toBe('forced');
    expect(table(model, 'public', 'booking').rowSecurity).toBe('enabled');
    expect(table(model, 'public', 'customer').rowSecurity).toBe('off');
  });

  it('reads exclusion constraints and legacy inheritance', () => {
    expect(table(model, 'public', 'booking').exclusionConstraints).toEqual([
      {
        name: 'booking_daily_distinct',
        definition: 'EXCLUDE USING gist (daily WITH &&) WHERE ((room > 100))',
      },
      { name: 'booking_no_overlap', definition: 'EXCLUDE USING gist (room WITH =, during WITH &&)' },
    ]);
    const car = table(model, 'public', 'car');
    expect(car.inherits).toEqual([{ schema: 'public', name: 'vehicle' }]);
    expect(car.columns.map((c) => [c.name, c.inheritedOnly ?? false, c.defaultExpression])).toEqual([
      ['id', true, null],
      ['wheels', true, '3'],
      ['doors', false, null],
    ]);
    // Inherited checks belong to the parent; a column both inherited and declared is local.
    expect(car.checkConstraints).toEqual([]);
    expect(column(table(model, 'public', 'truck'), 'wheels').inheritedOnly).toBeUndefined();
  });

  it('reads comments on every kind of object, with the target COMMENT ON needs', () => {
    expect(model.comments.map((comment) => comment.target)).toEqual([
      'AGGREGATE public.pick(double precision ORDER BY anyelement)',
      'AGGREGATE public.product_of(numeric)',
      'COLLATION public.byte_order',
      'COLUMN public.customer.email',
      'COLUMN public.customer_names.name',
      'COLUMN public.postal_address.zip',
      'COLUMN sales."OrderArchive"."order"',
      'CONSTRAINT customer_email_key ON public.customer',
      'CONSTRAINT positive ON DOMAIN public.positive_int',
      'DOMAIN public.code',
      'EXTENSION btree_gist',
      'EXTENSION citext',
      'FUNCTION public.is_even(integer)',
      'INDEX public.customer_lower_email_idx',
      'MATERIALIZED VIEW public.mood_counts',
      'POLICY ticket_everyone ON public.ticket',
      'PROCEDURE public.forget_orders(IN cutoff timestamp with time zone)',
      'RULE audit_log_keep ON public.audit_log',
      'SCHEMA sales',
      'SEQUENCE public.invoice_number',
      'TABLE public.customer',
      'TABLE sales."OrderArchive"',
      'TRIGGER orders_touch ON public.orders',
      'TYPE public.mood',
      'TYPE public.postal_address',
      'TYPE public.time_window',
      'VIEW public.customer_names',
    ]);
    expect(model.comments.find((c) => c.target === 'TABLE public.customer')?.text).toBe(
      "Customers; it's quoted",
    );
  });

  it('captures every object of the fixture: nothing is left uncaptured', () => {
    expect(model.uncaptured).toEqual([]);
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

  it('captures an extension but none of the objects it owns', async ({ skip }) => {
    const { rows } = await db.client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'citext'");
    if (rows.length === 0) skip('citext is not installed on this server');
    await db.client.query('CREATE EXTENSION citext');
    await db.client.query('CREATE TABLE public.account (login public.citext PRIMARY KEY)');
    const model = await new PostgresIntrospector(queryable(db.client)).introspect();
    expect(model.extensions).toEqual([
      { name: 'citext', schema: 'public', version: expect.stringMatching(/^\d/), requires: [] },
    ]);
    expect(model.uncaptured).toEqual([]);
    expect(model.functions).toEqual([]);
    expect(model.domains).toEqual([]);
    expect(model.comments).toEqual([
      { target: 'EXTENSION citext', text: expect.stringContaining('case-insensitive') },
    ]);
    expect(model.tables.map((t) => t.name)).toEqual(['account']);
    expect(model.tables[0]?.columns[0]).toMatchObject({ dataType: 'public.citext', baseType: 'citext' });
  });
});

describe('PostgresIntrospector and long definitions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('introspect_long');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reads them whole in pages that fit the RDS Data API (1 MiB per call, 64 KB per row)', async () => {
    // 12 functions of ~90 KB each: over 1 MiB together, each over one row's worth of bytes.
    const body = 'ıx'.repeat(30000);
    for (let i = 0; i < 12; i++) {
      await db.client.query(
        `CREATE FUNCTION public.long_${i}() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '${body}${i}' $$`,
      );
    }
    await db.client.query(`CREATE VIEW public.long_view AS SELECT '${body}' AS text`);
    let largestResponse = 0;
    let largestRow = 0;
    const measuring: Queryable = {
      async query(sql, params) {
        const rows = (await db.client.query(sql, params as SqlParameter[] | undefined)).rows;
        largestResponse = Math.max(largestResponse, Buffer.byteLength(JSON.stringify(rows)));
        for (const row of rows) largestRow = Math.max(largestRow, Buffer.byteLength(JSON.stringify(row)));
        return rows;
      },
    };
    const model = await new PostgresIntrospector(measuring).introspect();
    expect(model.functions).toHaveLength(12);
    for (const fn of model.functions) {
      const i = fn.name.slice('long_'.length);
      expect(fn.definition).toBe(
        `CREATE OR REPLACE FUNCTION public.long_${i}()\n RETURNS text\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT '${body}${i}' $function$`,
      );
    }
    expect(model.views[0]?.query).toBe(` SELECT '${body}'::text AS text`);
    expect(largestResponse).toBeLessThan(1024 * 1024);
    expect(largestRow).toBeLessThan(64 * 1024);
  });
});
