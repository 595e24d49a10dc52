import { beforeAll, describe, expect, it } from 'vitest';
import { SnapshotIntegrityError } from '../../core/errors.js';
import { parseSchemaScript, type SchemaScriptName } from '../../core/import/schema-script.js';
import { loadSqlParser } from '../../core/sql/sql-parser.js';

const HEADER = `SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);
`;

/** The refusal message for `sql`, or null when the script is allowed. */
async function refusal(sql: string, name: SchemaScriptName = 'pre-data.sql', allowUnchecked = false) {
  try {
    // drop.sql has no header: it drops, and sets client_min_messages.
    await parseSchemaScript(name === 'drop.sql' ? sql : HEADER + sql, name, { allowUnchecked });
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotIntegrityError);
    return (error as Error).message;
  }
}

describe('schema scripts: what an import runs', () => {
  beforeAll(loadSqlParser);

  it('allows what devsnap writes for a schema', async () => {
    const script = `
CREATE SCHEMA IF NOT EXISTS "Billing";
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;
CREATE TYPE public.mood AS ENUM ('sad', 'ok');
CREATE TYPE public.pair AS (a integer, b text);
CREATE TYPE public.span AS RANGE (subtype = integer);
CREATE DOMAIN public.pos AS integer CONSTRAINT pos_check CHECK (VALUE > 0);
CREATE SEQUENCE public.s AS bigint START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE;
CREATE COLLATION IF NOT EXISTS public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE FUNCTION public.f(a integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT a + 1 $$;
CREATE FUNCTION public.g(a integer) RETURNS integer LANGUAGE sql RETURN a * 2;
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
CREATE AGGREGATE public.total(integer) (SFUNC = int4pl, STYPE = integer);
CREATE TABLE public.t (id integer DEFAULT nextval('public.s'::regclass) NOT NULL, n public.pos, CONSTRAINT t_n CHECK (n < 100)) PARTITION BY RANGE (id);
CREATE TABLE public.t1 PARTITION OF public.t FOR VALUES FROM (0) TO (10);
ALTER SEQUENCE public.s OWNED BY public.t.id;
ALTER TABLE ONLY public.t ALTER COLUMN n SET DEFAULT 1;
`;
    expect(await refusal(script)).toBeNull();
    const post = `
ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
CREATE INDEX t_lower ON public.t USING btree (lower(n::text));
ALTER INDEX public.t_pkey ATTACH PARTITION public.t1_pkey;
CREATE OR REPLACE VIEW public.v AS SELECT id FROM public.t;
CREATE MATERIALIZED VIEW public.mv AS SELECT count(*) FROM public.t WITH NO DATA;
ALTER TABLE public.t ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES public.t(id);
CREATE TRIGGER t_touch BEFORE UPDATE ON public.t FOR EACH ROW WHEN (NEW.id > 0) EXECUTE FUNCTION public.touch();
ALTER TABLE public.t DISABLE TRIGGER t_touch;
CREATE RULE r AS ON DELETE TO public.v DO INSTEAD NOTHING;
ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON public.t AS PERMISSIVE FOR SELECT TO app_user, "Reporting" USING (id > 0);
COMMENT ON TABLE public.t IS 'things';
REFRESH MATERIALIZED VIEW public.mv;
`;
    expect(await refusal(post, 'post-data.sql')).toBeNull();
    const drop = `SET client_min_messages = warning;
DROP VIEW IF EXISTS public.v CASCADE;
DROP TABLE IF EXISTS public.t CASCADE;
DROP FUNCTION IF EXISTS public.f(integer);
DROP TYPE IF EXISTS public.mood;`;
    expect(await refusal(drop, 'drop.sql')).toBeNull();
  });

  it.each([
    ["COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned';", /line 6: COPY .*: COPY/],
    ['DO $$ BEGIN PERFORM 1; END $$;', /line 6: DO \$\$.*: DO/],
    ["ALTER SYSTEM SET archive_command = 'touch /tmp/pwned';", /ALTER SYSTEM/],
    ["CREATE ROLE evil SUPERUSER LOGIN PASSWORD 'x';", /CREATE ROLE/],
    ['ALTER ROLE CURRENT_USER SUPERUSER;', /ALTER ROLE/],
    ['GRANT ALL ON SCHEMA public TO PUBLIC;', /GRANT/],
    ['ALTER TABLE public.t OWNER TO postgres;', /ALTER TABLE … ChangeOwner/],
    ["LOAD 'auto_explain';", /LOAD/],
    ['SET ROLE postgres;', /SET role/],
    ['SET session_replication_role = replica;', /SET session_replication_role/],
    ['SET standard_conforming_strings = off;', /SET standard_conforming_strings = off/],
    ["SET search_path = 'evil';", /SET search_path = evil/],
    ['RESET ALL;', /SET VAR_RESET_ALL/],
    ["SELECT pg_read_file('/etc/passwd');", /a query \(only the search_path reset is run\)/],
    ['INSERT INTO public.t VALUES (1);', /INSERT/],
    ['CREATE EXTENSION dblink;', /CREATE EXTENSION dblink \(reaches outside the database\)/],
    ['CREATE EXTENSION citext CASCADE;', /CREATE EXTENSION … CASCADE/],
    [
      "CREATE FUNCTION public.c() RETURNS void LANGUAGE c AS '/tmp/evil.so', 'f';",
      /LANGUAGE c \(only sql and plpgsql/,
    ],
    ["CREATE FUNCTION public.p() RETURNS void LANGUAGE plpython3u AS 'import os';", /LANGUAGE plpython3u/],
    ["CREATE TABLE public.x (a text DEFAULT pg_read_file('/etc/passwd'));", /calls pg_read_file\(\)/],
    [
      'CREATE TABLE public.x (a int CHECK (pg_catalog.pg_terminate_backend(a)));',
      /calls pg_terminate_backend\(\)/,
    ],
    ['CREATE TABLE public.x (a oid DEFAULT "lo_export"(1, \'/tmp/x\'));', /calls lo_export\(\)/],
    [
      "CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/passwd') $$;",
      /function public\.f: calls pg_read_file\(\)/,
    ],
    [
      "CREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS $$ COPY (SELECT 1) TO PROGRAM 'id' $$;",
      /function public\.f: runs COPY/,
    ],
    [
      'CREATE FUNCTION public.f() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT pg_reload_conf(); END;',
      /calls pg_reload_conf\(\)/,
    ],
    [
      "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM dblink_exec('x', 'y'); END $$;",
      /calls dblink_exec\(\)/,
    ],
    [
      'CREATE FUNCTION public.f() RETURNS int LANGUAGE plpgsql AS $$ DECLARE x int; BEGIN x := pg_advisory_lock(1); RETURN x; END $$;',
      /calls pg_advisory_lock\(\)/,
    ],
    [
      'CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE ROLE evil; END $$;',
      /function public\.f: runs CREATE ROLE/,
    ],
    [
      "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM query_to_xml('select 1', true, true, ''); END $$;",
      /calls query_to_xml\(\)/,
    ],
    ["CREATE VIEW public.v AS SELECT pg_ls_dir('.');", /calls pg_ls_dir\(\)/],
    [
      "CREATE POLICY p ON public.t USING (pg_catalog.set_config('x.y', '1', false) IS NOT NULL);",
      /calls set_config\(\)/,
    ],
    [
      'CREATE TRIGGER tr BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f(); CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION public.f();',
      /CREATE EVENT TRIG/,
    ],
    ["CREATE RULE r AS ON INSERT TO public.t DO ALSO SELECT lo_export(1, '/tmp/x');", /calls lo_export\(\)/],
    ['CREATE RULE r AS ON INSERT TO public.t DO ALSO NOTIFY evil;', null],
    [
      'CREATE AGGREGATE public.a(oid) (SFUNC = lo_unlink, STYPE = integer);',
      /an aggregate calling lo_unlink\(\)/,
    ],
    ['CREATE SCHEMA evil AUTHORIZATION postgres;', /AUTHORIZATION/],
    ['CREATE TABLE public.x AS SELECT 1;', /CREATE TABLE … AS/],
  ])('refuses %s', async (statement, expected) => {
    const message = await refusal(statement);
    if (expected === null) {
      // NOTIFY tells listeners on this server only; a rule may do it.
      expect(message).toBeNull();
      return;
    }
    expect(message).toMatch(/^The snapshot's pre-data\.sql holds statements an import never runs:\n/);
    expect(message).toMatch(expected);
  });

  it('allows only DROP … IF EXISTS of the snapshot’s kinds of object in drop.sql', async () => {
    expect(await refusal('DROP TABLE public.t;', 'drop.sql')).toMatch(/DROP in drop\.sql/);
    expect(await refusal('DROP ROLE IF EXISTS app;', 'drop.sql')).toMatch(/DROP ROLE in drop\.sql/);
    expect(await refusal('DROP DATABASE IF EXISTS app;', 'drop.sql')).toMatch(/DROPDB in drop\.sql/);
    expect(await refusal('CREATE TABLE public.t (a int);', 'drop.sql')).toMatch(/CREATE in drop\.sql/);
  });

  it('lists every refused statement at once, with its line', async () => {
    const message = await refusal(
      "COPY x TO PROGRAM 'a';\nCREATE TABLE public.ok (a int);\nDO $$ BEGIN END $$;",
    );
    expect(message).toMatch(/line 6: .*COPY[\s\S]*line 8: .*DO/);
  });

  it('refuses what devsnap cannot check unless the snapshot is trusted: EXECUTE, SECURITY DEFINER, SET options', async () => {
    const dynamic = `CREATE FUNCTION public.report() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE ' || 'x'; END $$;`;
    const definer =
      'CREATE FUNCTION public.who() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT current_user $$;';
    const setting =
      "CREATE FUNCTION public.w() RETURNS int LANGUAGE sql SET work_mem = '1GB' AS $$ SELECT 1 $$;";
    const message = await refusal(`${dynamic}\n${definer}\n${setting}`);
    expect(message).toMatch(
      /^The snapshot creates functions devsnap cannot check, and no key you trust signed it/,
    );
    expect(message).toMatch(
      /pre-data\.sql line \d+: function public\.report: runs SQL built at run time \(EXECUTE\)/,
    );
    expect(message).toMatch(/function public\.who: runs with its owner’s rights \(SECURITY DEFINER\)/);
    expect(message).toMatch(/function public\.w: sets work_mem when called/);
    expect(await refusal(`${dynamic}\n${definer}\n${setting}`, 'pre-data.sql', true)).toBeNull();
    // A call with server side effects is refused even from a trusted snapshot.
    expect(
      await refusal(
        "CREATE FUNCTION public.x() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT pg_read_file('x') $$;",
        'pre-data.sql',
        true,
      ),
    ).toMatch(/calls pg_read_file/);
  });

  it('keeps each statement’s exact text, multi-byte characters included, for the runner', async () => {
    const script = await parseSchemaScript(
      `${HEADER}COMMENT ON TABLE public.t IS 'naïve – ✓';\nCREATE TABLE public."été" (a int);`,
      'post-data.sql',
      { allowUnchecked: false },
    );
    const texts = script.statements.map((statement) => statement.text.trim());
    expect(texts.at(-2)).toBe("COMMENT ON TABLE public.t IS 'naïve – ✓'");
    expect(texts.at(-1)).toBe('CREATE TABLE public."été" (a int)');
    expect(script.statements.at(-1)?.line).toBe(7);
  });

  it('refuses text that does not parse', async () => {
    expect(await refusal('CREATE TABLE (;')).toMatch(/^The snapshot's pre-data\.sql is not valid SQL/);
  });
});
