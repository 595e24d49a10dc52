import { SESSION_SETTINGS } from '../source/source.js';
/**
 * The catalog queries PostgresIntrospector runs, one per kind of object. Each returns one row
 * per object with only text, integer and boolean columns (arrays come back as JSON text), so the
 * rows read the same through `pg` and the RDS Data API. They run through `inSessionSettings`,
 * which makes every deparsed name schema-qualified (empty search_path) and every deparsed
 * literal use one date style, so the DDL built from them means the same thing on any server.
 */

/** Settings the deparsing functions depend on; the schema DDL sets the same ones. */
export const CATALOG_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  search_path: '',
  DateStyle: SESSION_SETTINGS.DateStyle ?? 'ISO, MDY',
  IntervalStyle: SESSION_SETTINGS.IntervalStyle ?? 'postgres',
});

/**
 * Wraps a query so the settings are applied (transaction-local) before any of its rows are
 * computed: the LATERAL reference to `session` forces the planner to evaluate set_config first.
 * Outside a transaction the settings end with the statement; inside one the introspector puts
 * the caller's values back when it is done.
 */
export function inSessionSettings(body: string): string {
  const assignments = Object.entries(CATALOG_SESSION_SETTINGS)
    .map(([name, value]) => `pg_catalog.set_config('${name}', '${value}', true)`)
    .join(' || ');
  return `SELECT r.*
FROM (SELECT ${assignments} AS applied OFFSET 0) AS session
CROSS JOIN LATERAL (SELECT b.* FROM (${body}) AS b WHERE session.applied IS NOT NULL OFFSET 0) AS r`;
}

/** Current values of the settings inSessionSettings changes, and the server version. */
export const SETTINGS_QUERY = `
SELECT pg_catalog.current_setting('server_version') AS server_version,
  ${Object.keys(CATALOG_SESSION_SETTINGS)
    .map((name) => `pg_catalog.current_setting('${name}') AS "${name}"`)
    .join(',\n  ')}`;

export const REGCLASS = (catalog: string) => `'pg_catalog.${catalog}'::pg_catalog.regclass`;

/** Schemas users create: everything but pg_* (reserved for the system) and information_schema. */
export const USER_SCHEMA = (namespace: string) =>
  `${namespace}.nspname !~ '^pg_' AND ${namespace}.nspname <> 'information_schema'`;

/** Objects created by CREATE EXTENSION come back with the extension, so they are not captured. */
export const NOT_IN_EXTENSION = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x WHERE x.classid = ${REGCLASS(catalog)} AND x.objid = ${oid} AND x.deptype = 'e')`;

/**
 * User functions that an expression (a default, check or index) calls, as JSON text of
 * regprocedure names: the DDL must create them first. Functions of extensions come back with
 * their extension, before any of these.
 */
const REQUIRED_FUNCTIONS = (catalog: string, oid: string) => `(
  SELECT pg_catalog.json_agg(DISTINCT f.oid::pg_catalog.regprocedure::text)::text
  FROM pg_catalog.pg_depend fd
  JOIN pg_catalog.pg_proc f ON f.oid = fd.refobjid
  JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
  WHERE fd.classid = ${REGCLASS(catalog)} AND fd.objid = ${oid} AND fd.refclassid = ${REGCLASS('pg_proc')}
    AND fn.nspname NOT IN ('pg_catalog', 'information_schema') AND ${NOT_IN_EXTENSION('pg_proc', 'f.oid')})`;

/** Collation as SQL text, qualified unless it lives in pg_catalog (always on the search path). */
export const COLLATION_NAME = (collationOid: string) => `(
  SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN pg_catalog.quote_ident(co.collname)
    ELSE pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END
  FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
  WHERE co.oid = ${collationOid})`;

/** Column names of a constraint's key (conkey / confkey), in key order, as JSON text. */
const KEY_COLUMNS = (relation: string, key: string) => `(
  SELECT pg_catalog.json_agg(ka.attname ORDER BY k.ord)::text
  FROM pg_catalog.unnest(${key}) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute ka ON ka.attrelid = ${relation} AND ka.attnum = k.attnum)`;

/** Ordinary and partitioned tables in user schemas; every other query joins through it. */
const USER_TABLES = `
  SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}`;

export type TableRow = {
  readonly oid: string;
  readonly schema: string;
  readonly name: string;
  readonly relkind: string;
  readonly partition_key: string | null;
  readonly parent_schema: string | null;
  readonly parent_name: string | null;
  readonly partition_bound: string | null;
  readonly root_schema: string | null;
  readonly root_name: string | null;
  readonly estimated_rows: string;
  readonly unlogged: boolean;
  readonly row_security: boolean;
  readonly force_row_security: boolean;
  /** JSON array of { schema, name } in inhseqno order; null when the table inherits nothing. */
  readonly inherits: string | null;
};

/** Tables: partition parent and bound, top-level root (pg_partition_root), row estimate, RLS, inheritance parents. */
export const TABLES_QUERY = `
WITH t AS (${USER_TABLES})
SELECT t.oid::text AS oid, t.nspname::text AS schema, t.relname::text AS name, t.relkind::text AS relkind,
  CASE WHEN t.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(t.oid) END AS partition_key,
  pn.nspname::text AS parent_schema, pc.relname::text AS parent_name,
  CASE WHEN t.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
  rn.nspname::text AS root_schema, rc.relname::text AS root_name,
  c.reltuples::text AS estimated_rows,
  c.relpersistence = 'u' AS unlogged,
  c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('schema', hn.nspname, 'name', hc.relname) ORDER BY h.inhseqno)::text
   FROM pg_catalog.pg_inherits h
   JOIN pg_catalog.pg_class hc ON hc.oid = h.inhparent JOIN pg_catalog.pg_namespace hn ON hn.oid = hc.relnamespace
   WHERE h.inhrelid = t.oid AND NOT t.relispartition) AS inherits
FROM t
JOIN pg_catalog.pg_class c ON c.oid = t.oid
LEFT JOIN pg_catalog.pg_inherits i ON t.relispartition AND i.inhrelid = t.oid
LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
LEFT JOIN pg_catalog.pg_class rc ON t.relispartition AND rc.oid = pg_catalog.pg_partition_root(t.oid)
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace`;

export type ColumnRow = {
  readonly table_oid: string;
  readonly name: string;
  readonly position: number;
  readonly data_type: string;
  readonly base_type: string;
  readonly is_array: boolean;
  readonly nullable: boolean;
  readonly default_expression: string | null;
  readonly identity: string;
  readonly generated_expression: string | null;
  readonly collation: string | null;
  readonly required_functions: string | null;
  readonly local: boolean;
};

/**
 * Columns. base_type resolves domains (recursively) to the storage type; for an array whose
 * element is a domain it resolves the element and takes that base's array type (`year[]` → `_int4`).
 */
export const COLUMNS_QUERY = `
WITH RECURSIVE t AS (${USER_TABLES}),
domain_chain(type_oid, base_oid) AS (
  SELECT ty.oid, ty.oid FROM pg_catalog.pg_type ty
  UNION ALL
  SELECT dc.type_oid, d.typbasetype
  FROM domain_chain dc JOIN pg_catalog.pg_type d ON d.oid = dc.base_oid
  WHERE d.typtype = 'd'
),
storage_type AS (
  SELECT dc.type_oid, dc.base_oid
  FROM domain_chain dc JOIN pg_catalog.pg_type b ON b.oid = dc.base_oid
  WHERE b.typtype <> 'd'
)
SELECT t.oid::text AS table_oid, a.attname::text AS name, a.attnum::int AS position,
  pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
  CASE WHEN bt.typcategory = 'A' AND es.base_oid <> bt.typelem
    THEN COALESCE(ea.typname::text, '_' || eb.typname) ELSE bt.typname::text END AS base_type,
  bt.typcategory = 'A' AS is_array,
  NOT a.attnotnull AS nullable,
  CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS default_expression,
  a.attidentity::text AS identity,
  CASE WHEN a.attgenerated = 's' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS generated_expression,
  CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
    THEN ${COLLATION_NAME('a.attcollation')} END AS collation,
  ${REQUIRED_FUNCTIONS('pg_attrdef', 'ad.oid')} AS required_functions,
  -- A partition's columns are never local; only inheritance children leave inherited ones out.
  a.attislocal OR t.relispartition AS local
FROM t
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
JOIN storage_type st ON st.type_oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = st.base_oid
LEFT JOIN storage_type es ON bt.typcategory = 'A' AND es.type_oid = bt.typelem
LEFT JOIN pg_catalog.pg_type eb ON eb.oid = es.base_oid
LEFT JOIN pg_catalog.pg_type ea ON ea.oid = eb.typarray
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum`;

export type ConstraintRow = {
  readonly table_oid: string;
  readonly name: string;
  readonly type: string;
  readonly columns: string | null;
  readonly referenced_schema: string | null;
  readonly referenced_name: string | null;
  readonly referenced_columns: string | null;
  readonly definition: string;
  readonly required_functions: string | null;
};

/**
 * Primary keys, unique, foreign key, exclusion and check constraints. Keys and foreign keys
 * cloned onto a partition from its partitioned parent (conparentid <> 0) belong to the parent
 * and come back with it; so do checks a partition or inheritance child inherits (not conislocal).
 */
export const CONSTRAINTS_QUERY = `
WITH t AS (${USER_TABLES})
SELECT t.oid::text AS table_oid, con.conname::text AS name, con.contype::text AS type,
  ${KEY_COLUMNS('con.conrelid', 'con.conkey')} AS columns,
  rn.nspname::text AS referenced_schema, rc.relname::text AS referenced_name,
  ${KEY_COLUMNS('con.confrelid', 'con.confkey')} AS referenced_columns,
  pg_catalog.pg_get_constraintdef(con.oid) AS definition,
  ${REQUIRED_FUNCTIONS('pg_constraint', 'con.oid')} AS required_functions
FROM t
JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
WHERE (con.contype IN ('p', 'u', 'f', 'x') AND con.conparentid = 0)
   OR (con.contype = 'c' AND con.conislocal)`;

export type IndexRow = {
  readonly table_oid: string;
  readonly name: string;
  readonly definition: string;
  readonly required_functions: string | null;
};

/**
 * Indexes of their own, on tables and materialized views: not the index behind a primary key,
 * unique or exclusion constraint, and not a partition's index attached to its parent's
 * partitioned index (relispartition), which creating the parent's index recreates.
 */
export const INDEXES_QUERY = `
WITH t AS (
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'm') AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')})
SELECT t.oid::text AS table_oid, ic.relname::text AS name,
  pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
  ${REQUIRED_FUNCTIONS('pg_class', 'i.indexrelid')} AS required_functions
FROM t
JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE NOT ic.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
    WHERE k.conindid = i.indexrelid AND k.conrelid = t.oid AND k.contype IN ('p', 'u', 'x'))`;

export type AttachedIndexRow = {
  readonly table_oid: string;
  readonly name: string;
  readonly definition: string;
  readonly parent_schema: string;
  readonly parent_name: string;
  readonly constraint_name: string | null;
  readonly constraint_definition: string | null;
};

/** Partitions' indexes attached to their parent's index, with the key or unique constraint they back. */
export const ATTACHED_INDEXES_QUERY = `
WITH t AS (${USER_TABLES})
SELECT t.oid::text AS table_oid, ic.relname::text AS name,
  pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
  pn.nspname::text AS parent_schema, pc.relname::text AS parent_name,
  con.conname::text AS constraint_name,
  CASE WHEN con.oid IS NOT NULL THEN pg_catalog.pg_get_constraintdef(con.oid) END AS constraint_definition
FROM t
JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid AND ic.relispartition
JOIN pg_catalog.pg_inherits h ON h.inhrelid = ic.oid
JOIN pg_catalog.pg_class pc ON pc.oid = h.inhparent
JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
LEFT JOIN pg_catalog.pg_constraint con
  ON con.conindid = i.indexrelid AND con.conrelid = t.oid AND con.contype IN ('p', 'u', 'x')`;

export type SequenceRow = {
  readonly schema: string;
  readonly name: string;
  readonly data_type: string;
  readonly start: string;
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly cache: string;
  readonly cycle: boolean;
  readonly owner_schema: string | null;
  readonly owner_table: string | null;
  readonly owner_column: string | null;
  readonly identity: boolean;
  readonly last_value: string | null;
  /** JSON array of { schema, name, column }: columns whose default draws from the sequence. */
  readonly default_columns: string | null;
};

/**
 * Sequences with their options. Owner: pg_depend 'a' (serial, OWNED BY) or 'i' (identity).
 * last_value is null when nextval was never called, or when we may not read the sequence.
 */
export const SEQUENCES_QUERY = `
SELECT n.nspname::text AS schema, c.relname::text AS name,
  pg_catalog.format_type(s.seqtypid, NULL) AS data_type,
  s.seqstart::text AS start, s.seqincrement::text AS increment,
  s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
  o.owner_schema, o.owner_table, o.owner_column,
  COALESCE(o.deptype = 'i', false) AS identity,
  CASE WHEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
    THEN pg_catalog.pg_sequence_last_value(c.oid)::text END AS last_value,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'schema', tn.nspname, 'name', tc.relname, 'column', ta.attname) ORDER BY tn.nspname, tc.relname, ta.attnum)::text
   FROM pg_catalog.pg_depend d
   JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
   JOIN pg_catalog.pg_class tc ON tc.oid = ad.adrelid AND NOT tc.relispartition
   JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
   JOIN pg_catalog.pg_attribute ta ON ta.attrelid = ad.adrelid AND ta.attnum = ad.adnum
   WHERE d.classid = ${REGCLASS('pg_attrdef')} AND d.refclassid = ${REGCLASS('pg_class')}
     AND d.refobjid = c.oid) AS default_columns
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
  SELECT tn.nspname::text AS owner_schema, tc.relname::text AS owner_table, ta.attname::text AS owner_column, d.deptype
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
  JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
  JOIN pg_catalog.pg_attribute ta ON ta.attrelid = tc.oid AND ta.attnum = d.refobjsubid
  WHERE d.classid = ${REGCLASS('pg_class')} AND d.objid = c.oid
    AND d.refclassid = ${REGCLASS('pg_class')} AND d.deptype IN ('a', 'i')
  LIMIT 1
) o ON true
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}`;

export type EnumRow = {
  readonly schema: string;
  readonly name: string;
  readonly labels: string | null;
};

/** Enum types with their labels in sort order (not creation order: ALTER TYPE … BEFORE exists). */
export const ENUMS_QUERY = `
SELECT n.nspname::text AS schema, ty.typname::text AS name,
  (SELECT pg_catalog.json_agg(e.enumlabel ORDER BY e.enumsortorder)::text
   FROM pg_catalog.pg_enum e WHERE e.enumtypid = ty.oid) AS labels
FROM pg_catalog.pg_type ty
JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
WHERE ty.typtype = 'e' AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_type', 'ty.oid')}`;

export type DomainRow = {
  readonly schema: string;
  readonly name: string;
  readonly base_type: string;
  readonly not_null: boolean;
  readonly default_expression: string | null;
  readonly collation: string | null;
  readonly required_functions: string | null;
  /** JSON array of { name, definition, requiredFunctions }. */
  readonly checks: string | null;
};

/** Domains. The default is deparsed from typdefaultbin: typdefault keeps the search_path of its creator. */
export const DOMAINS_QUERY = `
SELECT n.nspname::text AS schema, ty.typname::text AS name,
  pg_catalog.format_type(ty.typbasetype, ty.typtypmod) AS base_type,
  ty.typnotnull AS not_null,
  pg_catalog.pg_get_expr(ty.typdefaultbin, 0) AS default_expression,
  CASE WHEN ty.typcollation <> 0 AND ty.typcollation <> bt.typcollation
    THEN ${COLLATION_NAME('ty.typcollation')} END AS collation,
  ${REQUIRED_FUNCTIONS('pg_type', 'ty.oid')} AS required_functions,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'name', con.conname,
      'definition', pg_catalog.pg_get_constraintdef(con.oid),
      'requiredFunctions', ${REQUIRED_FUNCTIONS('pg_constraint', 'con.oid')}::json)
    ORDER BY con.conname)::text
   FROM pg_catalog.pg_constraint con WHERE con.contypid = ty.oid AND con.contype = 'c') AS checks
FROM pg_catalog.pg_type ty
JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
JOIN pg_catalog.pg_type bt ON bt.oid = ty.typbasetype
WHERE ty.typtype = 'd' AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_type', 'ty.oid')}`;

export type UncapturedRow = {
  readonly kind: string;
  readonly schema: string | null;
  readonly name: string;
  readonly table_name: string | null;
  readonly detail: string | null;
};

/**
 * Everything else users create that the DDL does not recreate, so the manifest can say what a
 * developer's database will lack: foreign tables, base types (they need C code), operators,
 * text search configurations, extended statistics, procedural languages created without an
 * extension, event triggers and publications.
 */
export const UNCAPTURED_QUERY = `
SELECT 'foreign-table' AS kind, n.nspname::text AS schema, c.relname::text AS name, NULL::text AS table_name, NULL::text AS detail
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'f' AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_class', 'c.oid')}
UNION ALL
SELECT 'other', n.nspname, ty.typname, NULL, 'base type'
FROM pg_catalog.pg_type ty JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
WHERE ty.typtype IN ('b', 'p') AND ty.typcategory <> 'A'
  AND ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_type', 'ty.oid')}
UNION ALL
SELECT 'other', n.nspname, o.oprname || '(' || pg_catalog.format_type(o.oprleft, NULL) || ', '
    || pg_catalog.format_type(o.oprright, NULL) || ')', NULL, 'operator'
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_operator', 'o.oid')}
UNION ALL
SELECT 'other', n.nspname, cf.cfgname, NULL, 'text search configuration'
FROM pg_catalog.pg_ts_config cf JOIN pg_catalog.pg_namespace n ON n.oid = cf.cfgnamespace
WHERE ${USER_SCHEMA('n')} AND ${NOT_IN_EXTENSION('pg_ts_config', 'cf.oid')}
UNION ALL
SELECT 'other', n.nspname, se.stxname, c.relname, 'extended statistics'
FROM pg_catalog.pg_statistic_ext se
JOIN pg_catalog.pg_class c ON c.oid = se.stxrelid JOIN pg_catalog.pg_namespace n ON n.oid = se.stxnamespace
WHERE ${USER_SCHEMA('n')}
UNION ALL
SELECT 'other', NULL, l.lanname, NULL, 'procedural language'
FROM pg_catalog.pg_language l
WHERE l.lanispl AND l.oid >= 16384 AND ${NOT_IN_EXTENSION('pg_language', 'l.oid')}
UNION ALL
SELECT 'other', NULL, et.evtname, NULL, 'event trigger'
FROM pg_catalog.pg_event_trigger et WHERE ${NOT_IN_EXTENSION('pg_event_trigger', 'et.oid')}
UNION ALL
SELECT 'other', NULL, pb.pubname, NULL, 'publication'
FROM pg_catalog.pg_publication pb`;
