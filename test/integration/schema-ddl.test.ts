import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresIntrospector } from '../../core/schema/postgres-introspector.js';
import { type SchemaDdl, writeDropDdl, writeSchemaDdl } from '../../core/schema/schema-ddl.js';
import type { SchemaModel } from '../../core/schema/schema-model.js';
import type { Queryable, SqlParameter } from '../../core/source/queryable.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { loadPagila } from '../support/sql-script.js';

const FIXTURE = new URL('../fixtures/kitchen-sink-schema.sql', import.meta.url);

function queryable(client: pg.Client): Queryable {
  return {
    query: async (sql, params) => (await client.query(sql, params as SqlParameter[] | undefined)).rows,
  };
}

function introspect(db: TestDatabase): Promise<SchemaModel> {
  return new PostgresIntrospector(queryable(db.client)).introspect();
}

/** What a rebuild cannot reproduce: statistics, sequence state and the objects it does not create. */
function comparable(model: SchemaModel) {
  return {
    ...model,
    tables: model.tables.map((table) => ({ ...table, estimatedRows: 0 })),
    sequences: model.sequences.map((sequence) => ({ ...sequence, lastValue: null })),
    uncaptured: [],
  };
}

/** Names of the model's tables, sequences and types that still exist in the database. */
async function remaining(db: TestDatabase, model: SchemaModel): Promise<string[]> {
  const names = [
    ...model.tables.map((t) => [t.schema, t.name]),
    ...model.sequences.map((s) => [s.schema, s.name]),
  ];
  const types = [...model.domains, ...model.enums].map((t) => [t.schema, t.name]);
  const { rows } = await db.client.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE (n.nspname, c.relname) IN (SELECT * FROM json_to_recordset($1::json) AS x(s text, n text))
     UNION ALL
     SELECT n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE (n.nspname, t.typname) IN (SELECT * FROM json_to_recordset($2::json) AS x(s text, n text))`,
    [JSON.stringify(names.map(([s, n]) => ({ s, n }))), JSON.stringify(types.map(([s, n]) => ({ s, n })))],
  );
  return rows.map((row) => row.name);
}

describe.each([
  {
    dataset: 'kitchen-sink fixture',
    load: async (db: TestDatabase) => db.client.query(await readFile(FIXTURE, 'utf8')),
  },
  { dataset: 'Pagila', load: (db: TestDatabase) => loadPagila(db.client) },
])('schema DDL round trip: $dataset', ({ load }) => {
  let source: TestDatabase;
  let target: TestDatabase;
  let model: SchemaModel;
  let ddl: SchemaDdl;

  beforeAll(async () => {
    source = await createTestDatabase('ddl_src');
    target = await createTestDatabase('ddl_dst');
    await load(source);
    model = await introspect(source);
    ddl = writeSchemaDdl(model);
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('rebuilds a database whose model equals the source model', async () => {
    await target.client.query(ddl.preData);
    await target.client.query(ddl.postData);
    const rebuilt = await introspect(target);
    expect(comparable(rebuilt)).toEqual(comparable(model));
    // Views, functions and triggers are not recreated (yet).
    expect(rebuilt.uncaptured).toEqual([]);
  });

  it('is deterministic', () => {
    expect(writeSchemaDdl(model)).toEqual(ddl);
  });

  it('drops every table, sequence, domain and enum of the model, and can run twice', async () => {
    expect((await remaining(target, model)).length).toBeGreaterThan(0);
    await target.client.query(writeDropDdl(model));
    expect(await remaining(target, model)).toEqual([]);
    await target.client.query(writeDropDdl(model));
  });
});

describe('schema DDL text', () => {
  let db: TestDatabase;
  let ddl: SchemaDdl;
  beforeAll(async () => {
    db = await createTestDatabase('ddl_text');
    await db.client.query(await readFile(FIXTURE, 'utf8'));
    ddl = writeSchemaDdl(await introspect(db));
  });
  afterAll(async () => {
    await db.drop();
  });

  it('starts each script with the settings it needs and an empty search_path', () => {
    for (const script of [ddl.preData, ddl.postData]) {
      expect(script).toContain('SET check_function_bodies = false;\nSET client_min_messages = warning;\n');
      expect(script).toContain("SELECT pg_catalog.set_config('search_path', '', false);");
    }
    expect(ddl.preData).toContain(
      'CREATE SCHEMA IF NOT EXISTS public;\n\nCREATE SCHEMA IF NOT EXISTS sales;',
    );
  });

  it('writes identity columns with their sequence and its options', () => {
    expect(ddl.preData).toContain(
      '  id integer GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.customer_id_seq START WITH 100 INCREMENT BY 5 MINVALUE 1 MAXVALUE 2147483647 CACHE 1 NO CYCLE) NOT NULL,\n',
    );
    expect(ddl.preData).toContain(
      '  id bigint GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME public.product_ids START WITH 10 INCREMENT BY 1 MINVALUE 10 MAXVALUE 999999 CACHE 3 CYCLE) NOT NULL,\n',
    );
    expect(ddl.preData).toContain(
      '  total numeric GENERATED ALWAYS AS (((quantity)::numeric * unit_price)) STORED\n',
    );
    // Identity sequences come with their table, never on their own.
    expect(ddl.preData).not.toContain('CREATE SEQUENCE public.customer_id_seq');
  });

  it('writes free and owned sequences with every option, and OWNED BY after the tables', () => {
    expect(ddl.preData).toContain(
      'CREATE SEQUENCE public.countdown\n  AS smallint START WITH 400 INCREMENT BY -2 MINVALUE -500 MAXVALUE 500 CACHE 4 CYCLE;',
    );
    const ownedBy = ddl.preData.indexOf('ALTER SEQUENCE public.ticket_seq OWNED BY public.ticket.id;');
    expect(ownedBy).toBeGreaterThan(ddl.preData.indexOf('CREATE TABLE public.ticket'));
  });

  it('writes partitions as PARTITION OF their parent, after it, with only what differs', () => {
    const at = (text: string) => {
      const index = ddl.preData.indexOf(text);
      expect(index, text).toBeGreaterThanOrEqual(0);
      return index;
    };
    const parent = at('CREATE TABLE public.measurement (');
    const middle = at(
      "CREATE TABLE public.measurement_2024 PARTITION OF public.measurement FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (sensor);",
    );
    const leaf = at(
      "CREATE TABLE public.measurement_2024_north PARTITION OF public.measurement_2024 FOR VALUES IN ('north', 'n');",
    );
    expect(parent).toBeLessThan(middle);
    expect(middle).toBeLessThan(leaf);
    at(
      "CREATE TABLE public.measurement_2024_other PARTITION OF public.measurement_2024 (\n  CONSTRAINT other_not_north CHECK ((sensor <> 'north'::text))\n) DEFAULT;",
    );
    at(
      "CREATE TABLE public.measurement_2025 PARTITION OF public.measurement (\n  reading WITH OPTIONS NOT NULL\n) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\nALTER TABLE ONLY public.measurement_2025 ALTER COLUMN reading DROP DEFAULT;",
    );
  });

  it('writes domains after the types they are built on, quoting names', () => {
    const positive = ddl.preData.indexOf('CREATE DOMAIN public.positive_int AS integer\n');
    const small = ddl.preData.indexOf('CREATE DOMAIN public.small_positive AS public.positive_int\n');
    expect(positive).toBeGreaterThan(ddl.preData.indexOf('CREATE TYPE public.mood AS ENUM'));
    expect(small).toBeGreaterThan(positive);
    expect(ddl.preData).toContain(
      'CREATE TABLE sales."OrderArchive" (\n  "order" integer NOT NULL,\n  "Region" text,',
    );
  });

  it('puts keys, indexes, NOT VALID checks and foreign keys (last) in post-data', () => {
    expect(ddl.preData).not.toContain('PRIMARY KEY');
    expect(ddl.preData).not.toContain('orders_order_no_positive');
    expect(ddl.postData).toContain(
      'ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_order_no_positive CHECK ((order_no > 0)) NOT VALID;',
    );
    // A partitioned table's key and index recurse to its partitions: no ONLY.
    expect(ddl.postData).toContain(
      'ALTER TABLE public.measurement ADD CONSTRAINT measurement_pkey PRIMARY KEY (id, taken_on, sensor);',
    );
    expect(ddl.postData).toContain(
      'CREATE INDEX measurement_sensor_idx ON public.measurement USING btree (sensor, taken_on);',
    );
    const firstForeignKey = ddl.postData.indexOf('FOREIGN KEY');
    expect(ddl.postData.lastIndexOf('CREATE ')).toBeLessThan(firstForeignKey);
    expect(ddl.postData.lastIndexOf('PRIMARY KEY')).toBeLessThan(firstForeignKey);
  });
});

describe('schema DDL and functions devsnap does not recreate', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let model: SchemaModel;
  let ddl: SchemaDdl;

  beforeAll(async () => {
    source = await createTestDatabase('ddl_fn_src');
    target = await createTestDatabase('ddl_fn_dst');
    await source.client.query(`
      CREATE FUNCTION public.next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'C-' || random()::text $$;
      CREATE FUNCTION public.is_even(integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT $1 % 2 = 0 $$;
      CREATE DOMAIN public.even AS integer DEFAULT 2 CHECK (public.is_even(VALUE)) CHECK (VALUE >= 0);
      CREATE TABLE public.coded (
        code text DEFAULT public.next_code(),
        n integer CONSTRAINT coded_n_even CHECK (public.is_even(n)) CONSTRAINT coded_n_small CHECK (n < 100),
        e public.even
      );
      CREATE INDEX coded_even_idx ON public.coded (public.is_even(n));
      CREATE INDEX coded_n_idx ON public.coded (n);`);
    model = await new PostgresIntrospector(queryable(source.client)).introspect();
    ddl = writeSchemaDdl(model);
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('records which expressions call them and lists each in uncaptured', () => {
    const coded = model.tables[0];
    expect(coded?.columns[0]).toMatchObject({
      defaultExpression: 'public.next_code()',
      requiredFunctions: ['public.next_code()'],
    });
    expect(coded?.columns[1]?.requiredFunctions).toBeUndefined();
    expect(coded?.checkConstraints).toEqual([
      {
        name: 'coded_n_even',
        definition: 'CHECK (public.is_even(n))',
        requiredFunctions: ['public.is_even(integer)'],
      },
      { name: 'coded_n_small', definition: 'CHECK ((n < 100))' },
    ]);
    expect(coded?.indexes[0]).toMatchObject({
      name: 'coded_even_idx',
      requiredFunctions: ['public.is_even(integer)'],
    });
    expect(model.domains[0]?.checks[0]).toMatchObject({ requiredFunctions: ['public.is_even(integer)'] });
    expect(model.uncaptured.filter((object) => object.kind === 'other')).toEqual([
      expect.objectContaining({
        schema: 'public',
        name: 'even_check',
        detail: expect.stringContaining('domain even'),
      }),
      expect.objectContaining({
        name: 'code',
        table: 'coded',
        detail: expect.stringMatching(/^column default calls/),
      }),
      expect.objectContaining({
        name: 'coded_even_idx',
        table: 'coded',
        detail: expect.stringMatching(/^index calls/),
      }),
      expect.objectContaining({ name: 'coded_n_even', table: 'coded' }),
    ]);
  });

  it('leaves them out with a comment, so the DDL runs on a database without the functions', async () => {
    expect(ddl.preData).toContain(
      '-- Left out the default of public.coded.code: it calls public.next_code(), which devsnap does not recreate.',
    );
    expect(ddl.preData).not.toContain('next_code()\n');
    expect(ddl.preData).not.toMatch(/CHECK \(public\.is_even/);
    expect(ddl.postData).toContain('-- Left out index coded_even_idx on public.coded');
    await target.client.query(ddl.preData);
    await target.client.query(ddl.postData);
    const rebuilt = await new PostgresIntrospector(queryable(target.client)).introspect();
    const coded = rebuilt.tables[0];
    expect(coded?.columns[0]?.defaultExpression).toBeNull();
    expect(coded?.checkConstraints.map((check) => check.name)).toEqual(['coded_n_small']);
    expect(coded?.indexes.map((index) => index.name)).toEqual(['coded_n_idx']);
    expect(rebuilt.domains[0]?.checks.map((check) => check.name)).toEqual(['even_check1']);
  });
});
