import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSchemaScript, type SchemaScriptName } from '../../core/import/schema-script.js';
import { runDropScript, runSchemaScript } from '../../core/import/schema-script-runner.js';
import { PostgresIntrospector } from '../../core/schema/postgres-introspector.js';
import { type SchemaDdl, writeDropDdl, writeSchemaDdl } from '../../core/schema/schema-ddl.js';
import { quoteQualified, type SchemaModel } from '../../core/schema/schema-model.js';
import type { Queryable, SqlParameter } from '../../core/source/queryable.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { loadPagila } from '../support/sql-script.js';

const FIXTURE = new URL('../fixtures/kitchen-sink-schema.sql', import.meta.url);

function queryable(client: pg.Client): Queryable {
  return {
    query: async (sql, params) => (await client.query(sql, params as SqlParameter[] | undefined)).rows,
  };
}

/**
 * Runs generated DDL the way an import does: parsed and checked (functions a signed snapshot may
 * carry allowed), then statement by statement; drop.sql inside a transaction, as drop-tables does.
 */
async function runDdl(db: TestDatabase, sql: string, name: SchemaScriptName): Promise<void> {
  const script = await parseSchemaScript(sql, name, { allowUnchecked: true });
  if (name !== 'drop.sql') return runSchemaScript(db.client, script);
  await db.client.query('BEGIN');
  try {
    await runDropScript(db.client, script);
    await db.client.query('COMMIT');
  } catch (error) {
    await db.client.query('ROLLBACK');
    throw error;
  }
}

function introspect(db: TestDatabase): Promise<SchemaModel> {
  return new PostgresIntrospector(queryable(db.client)).introspect();
}

/** What a rebuild cannot reproduce: statistics and sequence state. */
function comparable(model: SchemaModel) {
  return {
    ...model,
    tables: model.tables.map((table) => ({ ...table, estimatedRows: 0 })),
    sequences: model.sequences.map((sequence) => ({ ...sequence, lastValue: null })),
  };
}

/** Names of the model's relations, types, functions and collations that still exist in the database. */
async function remaining(db: TestDatabase, model: SchemaModel): Promise<string[]> {
  const pairs = (objects: readonly { schema: string; name: string }[]) =>
    JSON.stringify(objects.map(({ schema, name }) => ({ s: schema, n: name })));
  const { rows } = await db.client.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE (n.nspname, c.relname) IN (SELECT * FROM json_to_recordset($1::json) AS x(s text, n text))
     UNION ALL
     SELECT n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE (n.nspname, t.typname) IN (SELECT * FROM json_to_recordset($2::json) AS x(s text, n text))
     UNION ALL
     SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE (n.nspname, p.proname) IN (SELECT * FROM json_to_recordset($3::json) AS x(s text, n text))
     UNION ALL
     SELECT n.nspname || '.' || co.collname FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
     WHERE (n.nspname, co.collname) IN (SELECT * FROM json_to_recordset($4::json) AS x(s text, n text))`,
    [
      pairs([...model.tables, ...model.sequences, ...model.views]),
      pairs([...model.domains, ...model.enums, ...model.compositeTypes, ...model.rangeTypes]),
      pairs(model.functions),
      pairs(model.collations),
    ],
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

  it('rebuilds a database whose model equals the source model, with nothing left uncaptured', async () => {
    await runDdl(target, ddl.preData, 'pre-data.sql');
    await runDdl(target, ddl.postData, 'post-data.sql');
    const rebuilt = await introspect(target);
    expect(comparable(rebuilt)).toEqual(comparable(model));
    expect(model.uncaptured).toEqual([]);
  });

  it('is deterministic', () => {
    expect(writeSchemaDdl(model)).toEqual(ddl);
  });

  it('drops every table, view, sequence, function, type and collation of the model, and can run twice', async () => {
    expect((await remaining(target, model)).length).toBeGreaterThan(0);
    await runDdl(target, writeDropDdl(model), 'drop.sql');
    expect(await remaining(target, model)).toEqual([]);
    await runDdl(target, writeDropDdl(model), 'drop.sql');
  });
});

describe('schema DDL over a drop-tables reset of Pagila', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  beforeAll(async () => {
    source = await createTestDatabase('ddl_again_src');
    target = await createTestDatabase('ddl_again_dst');
    await loadPagila(source.client);
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('runs again once the tables, free sequences, domains and enums are dropped', async () => {
    const model = await introspect(source);
    const ddl = writeSchemaDdl(model);
    await runDdl(target, ddl.preData, 'pre-data.sql');
    await runDdl(target, ddl.postData, 'post-data.sql');
    // What the drop-tables reset drops: views go with their tables; the functions and the
    // aggregate stay, and the scripts replace them.
    await target.client.query(
      [
        ...model.tables.map((t) => `DROP TABLE IF EXISTS ${quoteQualified(t)} CASCADE;`),
        ...model.sequences
          .filter((q) => !q.ownedBy)
          .map((q) => `DROP SEQUENCE IF EXISTS ${quoteQualified(q)};`),
        ...[...model.domains, ...model.enums].map((t) => `DROP TYPE IF EXISTS ${quoteQualified(t)};`),
      ].join('\n'),
    );
    await runDdl(target, ddl.preData, 'pre-data.sql');
    await runDdl(target, ddl.postData, 'post-data.sql');
    expect(comparable(await introspect(target))).toEqual(comparable(model));
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

  it('puts keys, indexes, NOT VALID checks, views, foreign keys and then triggers in post-data', () => {
    expect(ddl.preData).not.toContain('PRIMARY KEY');
    expect(ddl.preData).not.toContain('orders_order_no_positive');
    expect(ddl.postData).toContain(
      'ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_order_no_positive CHECK ((order_no > 0)) NOT VALID;',
    );
    // A partitioned table's key and index are its own (ON ONLY); each partition's, under the name
    // it has on the source, is attached to it, as pg_dump does.
    expect(ddl.postData).toContain(
      'ALTER TABLE ONLY public.measurement ADD CONSTRAINT measurement_pkey PRIMARY KEY (id, taken_on, sensor);',
    );
    expect(ddl.postData).toContain(
      'CREATE INDEX measurement_sensor_idx ON ONLY public.measurement USING btree (sensor, taken_on);',
    );
    expect(ddl.postData).toContain(
      'ALTER TABLE ONLY public.measurement_2025 ADD CONSTRAINT m2025_key PRIMARY KEY (id, taken_on, sensor);',
    );
    expect(ddl.postData).toContain('ALTER INDEX public.measurement_pkey ATTACH PARTITION public.m2025_key;');
    expect(ddl.postData).toContain(
      'ALTER INDEX public.measurement_sensor_idx ATTACH PARTITION public.m2025_by_sensor;',
    );
    const firstForeignKey = ddl.postData.indexOf('FOREIGN KEY');
    expect(ddl.postData.lastIndexOf('CREATE INDEX')).toBeLessThan(firstForeignKey);
    expect(ddl.postData.lastIndexOf('PRIMARY KEY')).toBeLessThan(firstForeignKey);
    // A view grouping by a key needs the key; triggers come after all of it, once the rows are in.
    expect(ddl.postData.indexOf('CREATE OR REPLACE VIEW public.customer_order_count')).toBeGreaterThan(
      ddl.postData.indexOf('customer_pkey PRIMARY KEY'),
    );
    expect(ddl.postData.indexOf('CREATE TRIGGER')).toBeGreaterThan(ddl.postData.lastIndexOf('FOREIGN KEY'));
    expect(ddl.preData).not.toContain('TRIGGER');
  });

  it('creates every extension in its schema, before the tables, with no DO block (the import checks availability)', () => {
    expect(ddl.preData).not.toContain('DO $');
    expect(ddl.preData).toContain('CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA ext;');
    expect(ddl.preData).toContain('CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA ext;');
    expect(ddl.preData.indexOf('CREATE EXTENSION')).toBeLessThan(ddl.preData.indexOf('CREATE TABLE'));
  });

  it('creates functions before the tables whose defaults and checks call them, and after the tables they read', () => {
    const at = (text: string) => ddl.preData.indexOf(text);
    expect(at('CREATE OR REPLACE FUNCTION public.next_code()')).toBeGreaterThan(0);
    expect(at('CREATE OR REPLACE FUNCTION public.next_code()')).toBeLessThan(
      at('CREATE TABLE public.booking ('),
    );
    expect(at('CREATE OR REPLACE FUNCTION public.is_even(integer)')).toBeLessThan(
      at('CREATE TABLE public.booking ('),
    );
    expect(ddl.preData).toContain('  code text DEFAULT public.next_code() NOT NULL,\n');
    expect(at('CREATE OR REPLACE FUNCTION public.customer_count()')).toBeGreaterThan(
      at('CREATE TABLE public.customer ('),
    );
    // A range type after its subtype_diff function; a composite type after the domain it uses.
    expect(at('CREATE TYPE public.time_window AS RANGE (')).toBeGreaterThan(
      at('CREATE OR REPLACE FUNCTION public.time_diff('),
    );
    expect(at('CREATE TYPE public.postal_address AS (')).toBeGreaterThan(at('CREATE DOMAIN public.code'));
    expect(ddl.preData).not.toContain('-- Left out');
  });

  it('creates views and the functions that need them after the data, materialized views empty and refreshed last', () => {
    expect(ddl.preData).not.toContain('VIEW');
    expect(ddl.postData.indexOf('CREATE OR REPLACE FUNCTION public.named_customers()')).toBeGreaterThan(
      ddl.postData.indexOf('CREATE OR REPLACE VIEW public.customer_names AS'),
    );
    expect(ddl.postData.indexOf('CREATE OR REPLACE VIEW public.customer_initials AS')).toBeGreaterThan(
      ddl.postData.indexOf('CREATE OR REPLACE VIEW public.customer_names AS'),
    );
    expect(ddl.postData).toContain(
      "CREATE OR REPLACE VIEW public.happy_customers WITH (security_barrier='true', check_option='local') AS\n",
    );
    expect(ddl.postData).toContain('GROUP BY (customer.mood)::public.mood\n  WITH NO DATA;');
    // Only the materialized view that held data on the source is refreshed.
    expect(ddl.postData.trimEnd().endsWith('REFRESH MATERIALIZED VIEW public.mood_counts;')).toBe(true);
    expect(ddl.postData).not.toContain('REFRESH MATERIALIZED VIEW public.order_regions');
  });

  it('keeps disabled triggers and rules disabled, and a partition clone in its own state', () => {
    expect(ddl.postData).toContain(
      'CREATE TRIGGER orders_refuse BEFORE DELETE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.refuse();\n\nALTER TABLE public.orders DISABLE TRIGGER orders_refuse;',
    );
    expect(ddl.postData).toContain(
      'ALTER TABLE ONLY public.measurement_2025 DISABLE TRIGGER measurement_refuse;',
    );
    expect(ddl.postData).not.toContain(
      'CREATE TRIGGER measurement_refuse BEFORE DELETE ON public.measurement_2025',
    );
    expect(ddl.postData).toContain('ALTER TABLE public.audit_log DISABLE RULE audit_log_no_update;');
  });

  it('writes inheritance children with their own columns only, and what differs from the parent', () => {
    expect(ddl.preData).toContain(
      'CREATE TABLE public.car (\n  doors integer\n) INHERITS (public.vehicle);\nALTER TABLE ONLY public.car ALTER COLUMN wheels SET DEFAULT 3;',
    );
    expect(ddl.preData).toContain(
      'CREATE TABLE public.truck (\n  wheels integer DEFAULT 4 NOT NULL,\n  payload integer\n) INHERITS (public.vehicle);',
    );
  });
});

describe('schema DDL and expressions calling a function that needs a view', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let model: SchemaModel;
  let ddl: SchemaDdl;

  beforeAll(async () => {
    source = await createTestDatabase('ddl_fn_src');
    target = await createTestDatabase('ddl_fn_dst');
    // first_code() returns a view's row type, so it can only be created after the views, which
    // come after the data: the default of coded.code calling it cannot exist when coded does.
    await source.client.query(`
      CREATE TABLE public.codes (code text);
      CREATE VIEW public.code_view AS SELECT code FROM public.codes;
      CREATE FUNCTION public.first_code() RETURNS public.code_view LANGUAGE sql
        AS $$ SELECT * FROM public.code_view LIMIT 1 $$;
      CREATE FUNCTION public.is_even(integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT $1 % 2 = 0 $$;
      CREATE TABLE public.coded (
        code text DEFAULT (public.first_code()).code,
        n integer CONSTRAINT coded_n_even CHECK (public.is_even(n))
      );
      CREATE INDEX coded_even_idx ON public.coded (public.is_even(n));`);
    model = await new PostgresIntrospector(queryable(source.client)).introspect();
    ddl = writeSchemaDdl(model);
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('lists the expression it leaves out in uncaptured, and only that one', () => {
    expect(model.tables.find((t) => t.name === 'coded')?.columns[0]).toMatchObject({
      defaultExpression: '(public.first_code()).code',
      requiredFunctions: ['public.first_code()'],
    });
    expect(model.uncaptured).toEqual([
      {
        kind: 'other',
        schema: 'public',
        name: 'code',
        table: 'coded',
        detail: expect.stringMatching(
          /^column default calls public\.first_code\(\), which cannot be created before it/,
        ),
      },
    ]);
  });

  it('leaves it out with a comment and keeps the check and index that call an ordinary function', async () => {
    expect(ddl.preData).toContain(
      '-- Left out the default of public.coded.code: it calls public.first_code(), which does not exist at this point.',
    );
    expect(ddl.preData).toContain('CONSTRAINT coded_n_even CHECK (public.is_even(n))');
    await runDdl(target, ddl.preData, 'pre-data.sql');
    await runDdl(target, ddl.postData, 'post-data.sql');
    const rebuilt = await new PostgresIntrospector(queryable(target.client)).introspect();
    const coded = rebuilt.tables.find((t) => t.name === 'coded');
    expect(coded?.columns[0]?.defaultExpression).toBeNull();
    expect(coded?.checkConstraints.map((check) => check.name)).toEqual(['coded_n_even']);
    expect(coded?.indexes.map((index) => index.name)).toEqual(['coded_even_idx']);
    expect(rebuilt.functions.map((fn) => fn.signature)).toEqual([
      'public.first_code()',
      'public.is_even(integer)',
    ]);
  });
});

describe('schema DDL on the target server', () => {
  let source: TestDatabase;
  let model: SchemaModel;
  const targets: TestDatabase[] = [];
  const freshTarget = async () => {
    const db = await createTestDatabase('ddl_run');
    targets.push(db);
    return db;
  };

  beforeAll(async () => {
    source = await createTestDatabase('ddl_run_src');
    await source.client.query(await readFile(FIXTURE, 'utf8'));
    model = await introspect(source);
  });
  afterAll(async () => {
    await source?.drop();
    for (const db of targets) await db.drop();
  });

  it('fills a materialized view from the rows loaded between the scripts; triggers do not fire on them', async () => {
    const target = await freshTarget();
    const ddl = writeSchemaDdl(model);
    await runDdl(target, ddl.preData, 'pre-data.sql');
    // As the import's COPY would: orders_touch would overwrite placed_at if it existed yet.
    await target.client.query(
      `INSERT INTO public.customer (id, email, mood) OVERRIDING SYSTEM VALUE VALUES (1, 'a@x', 'happy'), (2, 'b@x', 'ok');
       INSERT INTO public.orders VALUES ('north', 1, 'a@x', '2020-01-01T00:00:00Z')`,
    );
    await runDdl(target, ddl.postData, 'post-data.sql');
    const { rows } = await target.client.query<{ mood: string; customers: string }>(
      'SELECT mood::text, customers::text FROM public.mood_counts ORDER BY 1',
    );
    expect(rows).toEqual([
      { mood: 'happy', customers: '1' },
      { mood: 'ok', customers: '1' },
    ]);
    const { rows: orders } = await target.client.query<{ placed: boolean }>(
      "SELECT placed_at = '2020-01-01T00:00:00Z' AS placed FROM public.orders",
    );
    expect(orders).toEqual([{ placed: true }]);
    await target.client.query("UPDATE public.orders SET region = 'north'");
    const { rows: touched } = await target.client.query<{ placed: boolean }>(
      "SELECT placed_at > '2020-01-01T00:00:00Z' AS placed FROM public.orders",
    );
    expect(touched).toEqual([{ placed: true }]);
  });

  it('stops with the names of every extension the server lacks', async () => {
    const target = await freshTarget();
    const needsMissing: SchemaModel = {
      ...model,
      extensions: [
        ...model.extensions,
        { name: 'devsnap_no_such_extension', schema: 'public', version: '9.9', requires: [] },
        { name: 'devsnap_nor_this_one', schema: 'public', version: '1.0', requires: [] },
      ],
    };
    await expect(runDdl(target, writeSchemaDdl(needsMissing).preData, 'pre-data.sql')).rejects.toThrow(
      'PostgreSQL extensions the snapshot needs are not available on this server: devsnap_no_such_extension, devsnap_nor_this_one',
    );
    // Named before anything was created.
    expect(await remaining(target, model)).toEqual([]);
  });

  it('applies a policy to the roles the target has, and to PUBLIC when it has none of them', async () => {
    const target = await freshTarget();
    const withRoles: SchemaModel = {
      ...model,
      policies: model.policies.map((policy) =>
        policy.name === 'ticket_everyone'
          ? { ...policy, roles: ['devsnap_no_such_role'] }
          : policy.name === 'booking_insert'
            ? { ...policy, roles: ['devsnap_fixture_reader', 'devsnap_no_such_role'] }
            : policy,
      ),
    };
    const ddl = writeSchemaDdl(withRoles);
    await runDdl(target, ddl.preData, 'pre-data.sql');
    await runDdl(target, ddl.postData, 'post-data.sql');
    const { rows } = await target.client.query<{ policyname: string; roles: string }>(
      'SELECT policyname, roles::text FROM pg_policies ORDER BY 1',
    );
    expect(rows).toEqual([
      { policyname: 'booking_insert', roles: '{devsnap_fixture_reader}' },
      { policyname: 'ticket_everyone', roles: '{public}' },
      { policyname: 'ticket_reader', roles: '{devsnap_fixture_reader}' },
    ]);
  });
});
