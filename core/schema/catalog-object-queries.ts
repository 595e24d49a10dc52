/**
 * Catalog queries for what lives beside the tables: extensions, collations, composite and range
 * types, routines, views, triggers, rules, policies and comments. Like catalog-queries.ts they
 * return only text, integer and boolean columns (arrays as JSON text) and run through
 * `inSessionSettings`, so every deparsed name comes back schema-qualified. Columns that only
 * newer servers have are read through to_jsonb(row) so one query fits PostgreSQL 13 to 17.
 */
import { COLLATION_NAME, NOT_IN_EXTENSION, REGCLASS, USER_SCHEMA } from './catalog-queries.js';

/**
 * JSON text of what the objects `objid IN (…)` of `catalog` depend on (pg_depend, normal
 * dependencies), resolved to what the DDL creates: a relation (a table's or view's row type
 * counts as the relation), a domain, enum, composite or range type (an array type counts as its
 * element, a multirange as its range) or a function. Objects of extensions and of pg_catalog are
 * left out: they exist before anything devsnap creates.
 */
const DEPENDS_ON = (catalog: string, objects: string, self: string) => `(
  SELECT pg_catalog.json_agg(DISTINCT pg_catalog.jsonb_build_object('kind', r.kind, 'schema', r.schema, 'name', r.name))::text
  FROM pg_catalog.pg_depend d
  CROSS JOIN LATERAL (
    SELECT CASE WHEN rc.relkind = 'c' THEN 'type' ELSE 'relation' END AS kind, rn.nspname AS schema, rc.relname AS name, rc.oid AS oid,
      ${REGCLASS('pg_class')} AS catalog
    FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE d.refclassid = ${REGCLASS('pg_class')} AND rc.oid = d.refobjid AND rc.relkind IN ('r', 'p', 'v', 'm', 'c')
    UNION ALL
    SELECT CASE WHEN rc.relkind IS NULL OR rc.relkind = 'c' THEN 'type' ELSE 'relation' END,
      rn.nspname, COALESCE(rc.relname, rt.typname), COALESCE(rc.oid, rt.oid),
      CASE WHEN rc.oid IS NULL THEN ${REGCLASS('pg_type')} ELSE ${REGCLASS('pg_class')} END
    FROM pg_catalog.pg_type t0
    CROSS JOIN LATERAL (SELECT COALESCE((SELECT el.oid FROM pg_catalog.pg_type el WHERE el.typarray = t0.oid), t0.oid) AS oid) e
    CROSS JOIN LATERAL (SELECT COALESCE((SELECT mr.rngtypid FROM pg_catalog.pg_range mr
      WHERE (pg_catalog.to_jsonb(mr) ->> 'rngmultitypid')::pg_catalog.oid = e.oid), e.oid) AS oid) b
    JOIN pg_catalog.pg_type rt ON rt.oid = b.oid
    JOIN pg_catalog.pg_namespace rn ON rn.oid = rt.typnamespace
    LEFT JOIN pg_catalog.pg_class rc ON rc.oid = rt.typrelid
    WHERE d.refclassid = ${REGCLASS('pg_type')} AND t0.oid = d.refobjid AND rt.typtype IN ('c', 'd', 'e', 'r')
    UNION ALL
    SELECT 'function', rn.nspname, rp.oid::pg_catalog.regprocedure::text, rp.oid, ${REGCLASS('pg_proc')}
    FROM pg_catalog.pg_proc rp JOIN pg_catalog.pg_namespace rn ON rn.oid = rp.pronamespace
    WHERE d.refclassid = ${REGCLASS('pg_proc')} AND rp.oid = d.refobjid
  ) r
  WHERE d.classid = ${REGCLASS(catalog)} AND d.objid IN (${objects}) AND d.deptype = 'n'
    AND r.oid <> ${self} AND r.schema !~ '^pg_' AND r.schema <> 'information_schema'
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
      WHERE x.classid = r.catalog AND x.objid = r.oid AND x.deptype = 'e'))`;

export type ExtensionRow = {
  readonly name: string;
  readonly schema: string;
  readonly version: string;
  readonly requires: string | null;
};

/** Extensions but plpgsql (every database has it), with the extensions each requires. */
export const EXTENSIONS_QUERY = `
SELECT e.extname::text AS name, n.nspname::text AS schema, e.extversion AS version,
  (SELECT pg_catalog.json_agg(r.extname ORDER BY r.extname)::text
   FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension r ON r.oid = d.refobjid
   WHERE d.classid = ${REGCLASS('pg_extension')} AND d.objid = e.oid
     AND d.refclassid = ${REGCLASS('pg_extension')}) AS requires
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'`;

export type CollationRow = {
  readonly schema: string;
  readonly name: string;
  readonly provider: string;
  readonly deterministic: boolean;
  readonly lc_collate: string | null;
  readonly lc_ctype: string | null;
  readonly locale: string | null;
  readonly rules: string | null;
};

/** User collations. The ICU locale column was colliculocale (15, 16) before colllocale (17). */
export const COLLATIONS_QUERY = `
SELECT n.nspname::text AS schema, co.collname::text AS name, co.collprovider::text AS provider,
  co.collisdeterministic AS deterministic, j ->> 'collcollate' AS lc_collate, j ->> 'collctype' AS lc_ctype,
  COALESCE(j ->> 'colllocale', j ->> 'colliculocale') AS locale, j ->> 'collicurules' AS rules
FROM pg_catalog.pg_collation co
JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
CROSS JOIN LATERAL (SELECT pg_catalog.to_jsonb(co) AS j) cj
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_collation', 'co.oid')}`;

export type CompositeTypeRow = {
  readonly schema: string;
  readonly name: string;
  /** JSON array of { name, dataType, collation } in attribute order. */
  readonly attributes: string | null;
};

/** Stand-alone composite types (CREATE TYPE … AS (…)), not the row types of tables and views. */
export const COMPOSITE_TYPES_QUERY = `
SELECT n.nspname::text AS schema, ty.typname::text AS name,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'name', a.attname, 'dataType', pg_catalog.format_type(a.atttypid, a.atttypmod),
      'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation
        THEN ${COLLATION_NAME('a.attcollation')} END) ORDER BY a.attnum)::text
   FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes
FROM pg_catalog.pg_type ty
JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
JOIN pg_catalog.pg_class c ON c.oid = ty.typrelid AND c.relkind = 'c'
WHERE ty.typtype = 'c' AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_type', 'ty.oid')}`;

export type RangeTypeRow = {
  readonly schema: string;
  readonly name: string;
  readonly subtype: string;
  readonly subtype_opclass: string | null;
  readonly collation: string | null;
  readonly canonical: string | null;
  readonly subtype_diff: string | null;
  readonly multirange_name: string | null;
};

/** Range types; the operator class only when it is not the subtype's default b-tree class. */
export const RANGE_TYPES_QUERY = `
SELECT n.nspname::text AS schema, ty.typname::text AS name,
  pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
  CASE WHEN NOT oc.opcdefault THEN pg_catalog.quote_ident(ocn.nspname) || '.' || pg_catalog.quote_ident(oc.opcname) END AS subtype_opclass,
  CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN ${COLLATION_NAME('r.rngcollation')} END AS collation,
  CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::pg_catalog.regprocedure::text END AS canonical,
  CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::pg_catalog.regprocedure::text END AS subtype_diff,
  (pg_catalog.to_jsonb(r) ->> 'rngmultitypid')::pg_catalog.oid::pg_catalog.regtype::text AS multirange_name
FROM pg_catalog.pg_range r
JOIN pg_catalog.pg_type ty ON ty.oid = r.rngtypid
JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc
JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_type', 'ty.oid')}`;

/** Routines users created: not those of extensions, nor the constructors a range type makes itself. */
const USER_ROUTINES = `
  SELECT p.oid, n.nspname, p.proname, p.prokind
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_proc', 'p.oid')}
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
      WHERE i.classid = ${REGCLASS('pg_proc')} AND i.objid = p.oid AND i.deptype = 'i')`;

export type FunctionRow = {
  readonly oid: string;
  readonly schema: string;
  readonly name: string;
  readonly kind: string;
  readonly identity_arguments: string;
  readonly signature: string;
  /** octet_length of pg_get_functiondef(): the definition itself is read in byte-bounded pages. */
  readonly definition_bytes: number;
  readonly depends_on: string | null;
};

/** Functions and procedures (aggregates have their own query: pg_get_functiondef refuses them). */
export const FUNCTIONS_QUERY = `
WITH p AS (${USER_ROUTINES})
SELECT p.oid::text AS oid, p.nspname::text AS schema, p.proname::text AS name, p.prokind::text AS kind,
  pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_arguments,
  p.oid::pg_catalog.regprocedure::text AS signature,
  pg_catalog.octet_length(pg_catalog.pg_get_functiondef(p.oid))::int AS definition_bytes,
  ${DEPENDS_ON('pg_proc', 'p.oid', 'p.oid')} AS depends_on
FROM p WHERE p.prokind <> 'a'`;

export type AggregateRow = {
  readonly schema: string;
  readonly name: string;
  readonly arguments: string;
  readonly identity_arguments: string;
  readonly signature: string;
  readonly kind: string;
  readonly transition: string;
  readonly state_type: string;
  readonly state_space: number;
  readonly final: string | null;
  readonly final_extra: boolean;
  readonly final_modify: string;
  readonly combine: string | null;
  readonly serial: string | null;
  readonly deserial: string | null;
  readonly initial: string | null;
  readonly moving_transition: string | null;
  readonly moving_inverse: string | null;
  readonly moving_state_type: string | null;
  readonly moving_state_space: number;
  readonly moving_final: string | null;
  readonly moving_final_extra: boolean;
  readonly moving_final_modify: string;
  readonly moving_initial: string | null;
  readonly sort_operator: string | null;
  readonly parallel: string;
  readonly depends_on: string | null;
};

/** Aggregates with every pg_aggregate option as SQL text, to build CREATE AGGREGATE from. */
export const AGGREGATES_QUERY = `
WITH p AS (${USER_ROUTINES})
SELECT p.nspname::text AS schema, p.proname::text AS name,
  pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
  pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_arguments,
  p.oid::pg_catalog.regprocedure::text AS signature,
  a.aggkind::text AS kind,
  a.aggtransfn::pg_catalog.regproc::text AS transition,
  pg_catalog.format_type(a.aggtranstype, NULL) AS state_type, a.aggtransspace AS state_space,
  CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::text END AS final, a.aggfinalextra AS final_extra,
  a.aggfinalmodify::text AS final_modify,
  CASE WHEN a.aggcombinefn <> 0 THEN a.aggcombinefn::text END AS combine,
  CASE WHEN a.aggserialfn <> 0 THEN a.aggserialfn::text END AS serial,
  CASE WHEN a.aggdeserialfn <> 0 THEN a.aggdeserialfn::text END AS deserial,
  a.agginitval AS initial,
  CASE WHEN a.aggmtransfn <> 0 THEN a.aggmtransfn::text END AS moving_transition,
  CASE WHEN a.aggminvtransfn <> 0 THEN a.aggminvtransfn::text END AS moving_inverse,
  CASE WHEN a.aggmtranstype <> 0 THEN pg_catalog.format_type(a.aggmtranstype, NULL) END AS moving_state_type,
  a.aggmtransspace AS moving_state_space,
  CASE WHEN a.aggmfinalfn <> 0 THEN a.aggmfinalfn::text END AS moving_final, a.aggmfinalextra AS moving_final_extra,
  a.aggmfinalmodify::text AS moving_final_modify,
  a.aggminitval AS moving_initial,
  (SELECT 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname) || '.' || op.oprname || ')'
   FROM pg_catalog.pg_operator op JOIN pg_catalog.pg_namespace opn ON opn.oid = op.oprnamespace
   WHERE op.oid = a.aggsortop) AS sort_operator,
  pr.proparallel::text AS parallel,
  ${DEPENDS_ON('pg_proc', 'p.oid', 'p.oid')} AS depends_on
FROM p
JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
JOIN pg_catalog.pg_proc pr ON pr.oid = p.oid
WHERE p.prokind = 'a'`;

export type ViewRow = {
  readonly oid: string;
  readonly schema: string;
  readonly name: string;
  readonly materialized: boolean;
  readonly populated: boolean;
  readonly options: string | null;
  readonly definition_bytes: number;
  readonly depends_on: string | null;
};

/** Views and materialized views; what they depend on is what their _RETURN rule depends on. */
export const VIEWS_QUERY = `
SELECT c.oid::text AS oid, n.nspname::text AS schema, c.relname::text AS name,
  c.relkind = 'm' AS materialized, c.relispopulated AS populated,
  pg_catalog.array_to_json(c.reloptions)::text AS options,
  pg_catalog.octet_length(pg_catalog.pg_get_viewdef(c.oid))::int AS definition_bytes,
  ${DEPENDS_ON(
    'pg_rewrite',
    `SELECT rw.oid FROM pg_catalog.pg_rewrite rw WHERE rw.ev_class = c.oid AND rw.rulename = '_RETURN'`,
    'c.oid',
  )} AS depends_on
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}`;

/** Characters per page of a long definition: at most 4 bytes each, under the Data API's 64 KB per row. */
const DEFINITION_CHUNK_CHARACTERS = 15000;

export type DefinitionChunkRow = { readonly oid: string; readonly chunk: number; readonly text: string };

/**
 * The definitions of the objects whose oids $1 lists (JSON text), cut into numbered chunks so
 * that no row and no page of them outgrows the RDS Data API's limits.
 */
export function definitionChunksQuery(deparse: 'pg_get_functiondef' | 'pg_get_viewdef'): string {
  return `
SELECT o.oid::text AS oid, ch.n::int AS chunk,
  pg_catalog.substr(o.def, ch.n * ${DEFINITION_CHUNK_CHARACTERS} + 1, ${DEFINITION_CHUNK_CHARACTERS}) AS text
FROM (SELECT x.oid, pg_catalog.${deparse}(x.oid) AS def
      FROM (SELECT pg_catalog.json_array_elements_text($1::pg_catalog.json)::pg_catalog.oid AS oid) x) o
CROSS JOIN LATERAL pg_catalog.generate_series(0, GREATEST(pg_catalog.length(o.def) - 1, 0) / ${DEFINITION_CHUNK_CHARACTERS}) AS ch(n)`;
}

export type TriggerRow = {
  readonly schema: string;
  readonly table_name: string;
  readonly name: string;
  readonly definition: string;
  readonly enabled: string;
  readonly clone: boolean;
};

/**
 * Triggers users created (not the internal ones behind foreign keys). A partition's clone of its
 * parent's trigger comes back with the parent; it is listed only when its state differs.
 */
export const TRIGGERS_QUERY = `
SELECT n.nspname::text AS schema, c.relname::text AS table_name, tg.tgname::text AS name,
  pg_catalog.pg_get_triggerdef(tg.oid) AS definition, tg.tgenabled::text AS enabled,
  tg.tgparentid <> 0 AS clone
FROM pg_catalog.pg_trigger tg
JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT tg.tgisinternal AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}
  AND (tg.tgparentid = 0 OR tg.tgenabled <> (SELECT pt.tgenabled FROM pg_catalog.pg_trigger pt WHERE pt.oid = tg.tgparentid))`;

export type RuleRow = {
  readonly schema: string;
  readonly table_name: string;
  readonly name: string;
  readonly definition: string;
  readonly enabled: string;
};

/** Rewrite rules, but the _RETURN rule that is a view's query. */
export const RULES_QUERY = `
SELECT n.nspname::text AS schema, c.relname::text AS table_name, ru.rulename::text AS name,
  pg_catalog.pg_get_ruledef(ru.oid) AS definition, ru.ev_enabled::text AS enabled
FROM pg_catalog.pg_rewrite ru
JOIN pg_catalog.pg_class c ON c.oid = ru.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ru.rulename <> '_RETURN' AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}`;

export type PolicyRow = {
  readonly schema: string;
  readonly table_name: string;
  readonly name: string;
  readonly permissive: boolean;
  readonly command: string;
  readonly roles: string | null;
  readonly using: string | null;
  readonly with_check: string | null;
};

/** Row-level security policies; role 0 is PUBLIC and is not named. */
export const POLICIES_QUERY = `
SELECT n.nspname::text AS schema, c.relname::text AS table_name, po.polname::text AS name,
  po.polpermissive AS permissive, po.polcmd::text AS command,
  (SELECT pg_catalog.json_agg(ro.rolname ORDER BY ro.rolname)::text
   FROM pg_catalog.pg_roles ro WHERE ro.oid = ANY (po.polroles)) AS roles,
  pg_catalog.pg_get_expr(po.polqual, po.polrelid) AS using,
  pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid) AS with_check
FROM pg_catalog.pg_policy po
JOIN pg_catalog.pg_class c ON c.oid = po.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}`;

export type CommentRow = { readonly target: string; readonly text: string };

const RELATION_KEYWORD = `CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'TABLE' WHEN 'v' THEN 'VIEW'
  WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX' WHEN 'S' THEN 'SEQUENCE'
  WHEN 'c' THEN 'TYPE' END`;

/**
 * Comments on every kind of object the DDL recreates, each with the COMMENT ON target that names
 * it. The public schema's stock comment is left out: every database has it.
 */
export const COMMENTS_QUERY = `
SELECT CASE WHEN d.objsubid = 0 THEN ${RELATION_KEYWORD} || ' ' || c.oid::pg_catalog.regclass::text
    ELSE 'COLUMN ' || c.oid::pg_catalog.regclass::text || '.' || pg_catalog.quote_ident(a.attname) END AS target,
  d.description AS text
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_class c ON d.classoid = ${REGCLASS('pg_class')} AND c.oid = d.objoid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'c') AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}
UNION ALL
SELECT CASE WHEN ty.typtype = 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || ty.oid::pg_catalog.regtype::text, d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_type ty ON d.classoid = ${REGCLASS('pg_type')} AND ty.oid = d.objoid
JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
WHERE (ty.typtype IN ('d', 'e', 'r') OR ty.typtype = 'c'
    AND EXISTS (SELECT 1 FROM pg_catalog.pg_class tc WHERE tc.oid = ty.typrelid AND tc.relkind = 'c'))
  AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_type', 'ty.oid')}
UNION ALL
SELECT CASE p.prokind WHEN 'a' THEN 'AGGREGATE ' WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END
    || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)
    || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_proc p ON d.classoid = ${REGCLASS('pg_proc')} AND p.oid = d.objoid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_proc', 'p.oid')}
UNION ALL
SELECT 'CONSTRAINT ' || pg_catalog.quote_ident(con.conname) || ' ON '
    || CASE WHEN con.contypid <> 0 THEN 'DOMAIN ' || con.contypid::pg_catalog.regtype::text
       ELSE con.conrelid::pg_catalog.regclass::text END, d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_constraint con ON d.classoid = ${REGCLASS('pg_constraint')} AND con.oid = d.objoid
JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_constraint', 'con.oid')}
UNION ALL
SELECT 'TRIGGER ' || pg_catalog.quote_ident(tg.tgname) || ' ON ' || tg.tgrelid::pg_catalog.regclass::text, d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_trigger tg ON d.classoid = ${REGCLASS('pg_trigger')} AND tg.oid = d.objoid
JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT tg.tgisinternal AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}
UNION ALL
SELECT 'RULE ' || pg_catalog.quote_ident(ru.rulename) || ' ON ' || ru.ev_class::pg_catalog.regclass::text, d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_rewrite ru ON d.classoid = ${REGCLASS('pg_rewrite')} AND ru.oid = d.objoid
JOIN pg_catalog.pg_class c ON c.oid = ru.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ru.rulename <> '_RETURN' AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}
UNION ALL
SELECT 'POLICY ' || pg_catalog.quote_ident(po.polname) || ' ON ' || po.polrelid::pg_catalog.regclass::text, d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_policy po ON d.classoid = ${REGCLASS('pg_policy')} AND po.oid = d.objoid
JOIN pg_catalog.pg_class c ON c.oid = po.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}
UNION ALL
SELECT 'COLLATION ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(co.collname), d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_collation co ON d.classoid = ${REGCLASS('pg_collation')} AND co.oid = d.objoid
JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_collation', 'co.oid')}
UNION ALL
SELECT 'EXTENSION ' || pg_catalog.quote_ident(e.extname), d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_extension e ON d.classoid = ${REGCLASS('pg_extension')} AND e.oid = d.objoid
WHERE e.extname <> 'plpgsql'
UNION ALL
SELECT 'SCHEMA ' || pg_catalog.quote_ident(n.nspname), d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_namespace n ON d.classoid = ${REGCLASS('pg_namespace')} AND n.oid = d.objoid
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_namespace', 'n.oid')}
  AND NOT (n.nspname = 'public' AND d.description = 'standard public schema')`;
