/**
 * The frozen, source-independent description of a database that export, import and the plan
 * share. Built by PostgresIntrospector from the catalog; serialised into the manifest in part.
 */

export interface QualifiedName {
  readonly schema: string;
  readonly name: string;
}

export interface ColumnInfo {
  readonly name: string;
  /** attnum: position in the table. */
  readonly position: number;
  /** Declared type as format_type() prints it, schema-qualified when not in pg_catalog, e.g. `public."year"`, `character varying(50)`, `text[]`. */
  readonly dataType: string;
  /**
   * pg_type.typname of the storage type after resolving domains (arrays keep their element's
   * base: a `year[]` column has `_int4`): `int4`, `int8`, `numeric`, `text`, `timestamptz`, `_text`, …
   * Enums give their own name; the codec treats anything it does not know as text.
   */
  readonly baseType: string;
  /** True when baseType is an array type (typcategory 'A'). */
  readonly isArray: boolean;
  readonly nullable: boolean;
  /** pg_get_expr of the default, or null. Identity and generated columns have none here. */
  readonly defaultExpression: string | null;
  readonly identity: 'always' | 'by-default' | null;
  /** Expression of a STORED generated column; such columns are not exported (the import recomputes them). */
  readonly generatedExpression: string | null;
  /** Collation as SQL (`"C"`, `public.german`) when it differs from the type's default, else null. */
  readonly collation: string | null;
  /**
   * User functions (regprocedure text, extensions' own left out) that the default or generated
   * expression calls: the DDL creates them before the table, or leaves the expression out when
   * it cannot (a function that needs a view). Absent when there are none.
   */
  readonly requiredFunctions?: readonly string[];
  /**
   * True for a column an inheritance child only inherits (attislocal false): CREATE TABLE …
   * INHERITS brings it, so the child's column list leaves it out. Absent otherwise.
   */
  readonly inheritedOnly?: true;
}

export interface KeyConstraint {
  readonly name: string;
  readonly columns: readonly string[];
  /** pg_get_constraintdef(), e.g. `PRIMARY KEY (id)`. */
  readonly definition: string;
}

export interface ForeignKeyInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly referencedTable: QualifiedName;
  readonly referencedColumns: readonly string[];
  /** pg_get_constraintdef(), e.g. `FOREIGN KEY (a, b) REFERENCES public.t(x, y) ON DELETE CASCADE`. */
  readonly definition: string;
}

export interface CheckConstraint {
  readonly name: string;
  /** pg_get_constraintdef(), e.g. `CHECK ((price > (0)::numeric))`, may end in `NOT VALID`. */
  readonly definition: string;
  /** As ColumnInfo.requiredFunctions: a check calling one is left out of the DDL. */
  readonly requiredFunctions?: readonly string[];
}

export interface IndexInfo {
  readonly name: string;
  /** pg_get_indexdef(), a complete CREATE INDEX statement (`ON ONLY` for a partitioned table's index). */
  readonly definition: string;
  /** As ColumnInfo.requiredFunctions: an index calling one is left out of the DDL. */
  readonly requiredFunctions?: readonly string[];
}

export interface TableInfo extends QualifiedName {
  /** `partitioned` is a partitioned parent (relkind 'p'); `table` includes leaf partitions. */
  readonly kind: 'table' | 'partitioned';
  readonly columns: readonly ColumnInfo[];
  /**
   * Keys, foreign keys and checks a partition got from its partitioned parent are not listed on
   * the partition: they belong to the parent and are recreated with it.
   */
  readonly primaryKey: KeyConstraint | null;
  readonly uniqueConstraints: readonly KeyConstraint[];
  readonly foreignKeys: readonly ForeignKeyInfo[];
  readonly checkConstraints: readonly CheckConstraint[];
  /** Indexes that do not back a constraint and are not inherited from a partitioned parent index. */
  readonly indexes: readonly IndexInfo[];
  /**
   * A partition's indexes that are attached to an index of its parent, with their own names
   * (PostgreSQL would name them itself; a partition often has older, hand-picked names).
   */
  readonly attachedIndexes: readonly AttachedIndex[];
  /** pg_get_partkeydef() for a partitioned table, e.g. `RANGE (payment_date)`. */
  readonly partitionKey: string | null;
  /** Parent of a partition and its bound (`FOR VALUES FROM (…) TO (…)`), or null. */
  readonly partitionOf: QualifiedName | null;
  readonly partitionBound: string | null;
  /** Top-level partitioned ancestor; rows of a partition are exported through it. Null when not a partition. */
  readonly partitionRoot: QualifiedName | null;
  /** pg_class.reltuples, or -1 when never analysed. */
  readonly estimatedRows: number;
  /** UNLOGGED tables keep their persistence. */
  readonly unlogged: boolean;
  /** Exclusion constraints (`EXCLUDE USING gist (…)`), built after the data like keys. */
  readonly exclusionConstraints: readonly ExclusionConstraint[];
  /** Parents of a table that uses (non-partition) inheritance, in INHERITS order. */
  readonly inherits: readonly QualifiedName[];
  /** ENABLE ROW LEVEL SECURITY, and FORCE (applies it to the owner too); switched on after the data. */
  readonly rowSecurity: 'off' | 'enabled' | 'forced';
}

export interface AttachedIndex {
  readonly name: string;
  /** pg_get_indexdef() of the partition's index (`ON ONLY` when the partition is partitioned too). */
  readonly definition: string;
  /** The parent's index it is attached to. */
  readonly parentIndex: QualifiedName;
  /** The partition's own key or unique constraint this index backs, or null for a plain index. */
  readonly constraint: { readonly name: string; readonly definition: string } | null;
}

export interface ExclusionConstraint {
  readonly name: string;
  /** pg_get_constraintdef(), e.g. `EXCLUDE USING gist (room WITH =, during WITH &&)`. */
  readonly definition: string;
}

export interface SequenceInfo extends QualifiedName {
  /** `bigint`, `integer` or `smallint`. */
  readonly dataType: string;
  readonly start: string;
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly cache: string;
  readonly cycle: boolean;
  /** The column that owns it (serial or identity); null for a free sequence. */
  readonly ownedBy: (QualifiedName & { readonly column: string }) | null;
  /** True for the implicit sequence of an identity column (created with the table, not separately). */
  readonly identity: boolean;
  /**
   * Columns whose default calls nextval() on it (tables only, not partitions). Many schemas, Pagila
   * among them, feed key columns this way without OWNED BY.
   */
  readonly defaultOf: readonly (QualifiedName & { readonly column: string })[];
  /** Current state, as text to keep bigint exact; lastValue null means never called. */
  readonly lastValue: string | null;
}

export interface EnumInfo extends QualifiedName {
  readonly labels: readonly string[];
}

export interface DomainInfo extends QualifiedName {
  /** format_type of the underlying type. */
  readonly baseType: string;
  readonly notNull: boolean;
  readonly defaultExpression: string | null;
  readonly collation: string | null;
  readonly checks: readonly CheckConstraint[];
  /** As ColumnInfo.requiredFunctions, for the default. */
  readonly requiredFunctions?: readonly string[];
}

/** An extension, recreated with CREATE EXTENSION (its own objects come back with it). */
export interface ExtensionInfo {
  readonly name: string;
  /** Schema of its objects (WITH SCHEMA). */
  readonly schema: string;
  /** Installed version on the source; the target installs its default version. */
  readonly version: string;
  /** Extensions it requires, created before it. */
  readonly requires: readonly string[];
}

export interface CollationInfo extends QualifiedName {
  readonly provider: 'libc' | 'icu' | 'builtin';
  readonly deterministic: boolean;
  /** libc collations. */
  readonly lcCollate: string | null;
  readonly lcCtype: string | null;
  /** ICU and builtin collations. */
  readonly locale: string | null;
  /** ICU tailoring rules (PostgreSQL 16+). */
  readonly rules: string | null;
}

export interface CompositeTypeInfo extends QualifiedName {
  readonly attributes: readonly {
    readonly name: string;
    /** format_type, qualified outside pg_catalog. */
    readonly dataType: string;
    readonly collation: string | null;
  }[];
}

export interface RangeTypeInfo extends QualifiedName {
  /** format_type of the element type. */
  readonly subtype: string;
  /** Operator class, qualified, when not the subtype's default b-tree class. */
  readonly subtypeOpclass: string | null;
  readonly collation: string | null;
  /** Functions as regprocedure text (`public.time_diff(time without time zone,time without time zone)`). */
  readonly canonical: string | null;
  readonly subtypeDiff: string | null;
  /** Qualified name of its multirange type (PostgreSQL 14+), else null. */
  readonly multirangeName: string | null;
}

/**
 * Something a function or view needs to exist first, from pg_depend: a table, view or other
 * relation (`relation`), a domain, enum, composite or range type (`type`), or a function (whose
 * name is its regprocedure signature). Objects of extensions are never listed.
 */
export interface ObjectRef {
  readonly kind: 'relation' | 'type' | 'function';
  readonly schema: string;
  readonly name: string;
}

export interface FunctionInfo extends QualifiedName {
  readonly kind: 'function' | 'procedure' | 'aggregate';
  /** pg_get_function_identity_arguments(), e.g. `p_film_id integer, p_store_id integer`. */
  readonly identityArguments: string;
  /** regprocedure text, the spelling requiredFunctions use: `public.last_day(timestamp with time zone)`. */
  readonly signature: string;
  /** The complete CREATE statement, without the final semicolon: pg_get_functiondef(), or built from pg_aggregate. */
  readonly definition: string;
  readonly dependsOn: readonly ObjectRef[];
}

export interface ViewInfo extends QualifiedName {
  readonly materialized: boolean;
  /** pg_get_viewdef(): the query, without a final semicolon. */
  readonly query: string;
  /** reloptions, e.g. `security_barrier=true`, `check_option=local`. */
  readonly options: readonly string[];
  /** A materialized view that held data on the source; it is refreshed after the data is loaded. */
  readonly populated: boolean;
  /** Indexes of a materialized view. */
  readonly indexes: readonly IndexInfo[];
  readonly dependsOn: readonly ObjectRef[];
}

/** pg_trigger.tgenabled and pg_rewrite.ev_enabled as words. */
export type FiringState = 'origin' | 'disabled' | 'replica' | 'always';

export interface TriggerInfo {
  /** The table or view it is on. */
  readonly table: QualifiedName;
  readonly name: string;
  /** pg_get_triggerdef(): a complete CREATE [CONSTRAINT] TRIGGER statement. */
  readonly definition: string;
  readonly enabled: FiringState;
  /**
   * A partition's clone of its parent's trigger whose state differs from the parent's: creating
   * the parent's trigger recreates it, so only its state is set. Absent for ordinary triggers.
   */
  readonly clone?: true;
}

export interface RuleInfo {
  readonly table: QualifiedName;
  readonly name: string;
  /** pg_get_ruledef(), without the final semicolon. */
  readonly definition: string;
  readonly enabled: FiringState;
}

export interface PolicyInfo {
  readonly table: QualifiedName;
  readonly name: string;
  readonly permissive: boolean;
  readonly command: 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
  /** Role names; empty means PUBLIC. */
  readonly roles: readonly string[];
  readonly using: string | null;
  readonly withCheck: string | null;
}

/** COMMENT ON target IS text; target is SQL such as `TABLE public.film` or `COLUMN public.film.title`. */
export interface CommentInfo {
  readonly target: string;
  readonly text: string;
}

export type UncapturedKind =
  | 'view'
  | 'materialized-view'
  | 'function'
  | 'procedure'
  | 'aggregate'
  | 'trigger'
  | 'rule'
  | 'policy'
  | 'extension'
  | 'composite-type'
  | 'range-type'
  | 'collation'
  | 'foreign-table'
  | 'other';

/** An object devsnap saw but does not recreate yet; listed in the manifest, never dropped silently. */
export interface UncapturedObject {
  readonly kind: UncapturedKind;
  readonly schema: string | null;
  readonly name: string;
  /** For triggers, rules and policies: the table they belong to. */
  readonly table?: string;
  /** What an `other` object is, or why a captured object's expression was left out of the DDL. */
  readonly detail?: string;
}

export interface SchemaModel {
  /** e.g. `15.18` (server_version). */
  readonly serverVersion: string;
  /** Non-system schemas that hold captured objects, in dependency-free order. */
  readonly schemas: readonly string[];
  readonly tables: readonly TableInfo[];
  readonly sequences: readonly SequenceInfo[];
  readonly enums: readonly EnumInfo[];
  readonly domains: readonly DomainInfo[];
  readonly extensions: readonly ExtensionInfo[];
  readonly collations: readonly CollationInfo[];
  readonly compositeTypes: readonly CompositeTypeInfo[];
  readonly rangeTypes: readonly RangeTypeInfo[];
  /** Functions, procedures and aggregates. */
  readonly functions: readonly FunctionInfo[];
  /** Views and materialized views. */
  readonly views: readonly ViewInfo[];
  readonly triggers: readonly TriggerInfo[];
  readonly rules: readonly RuleInfo[];
  readonly policies: readonly PolicyInfo[];
  readonly comments: readonly CommentInfo[];
  readonly uncaptured: readonly UncapturedObject[];
}

/** Generated columns are recomputed by the import, so their values are never exported. */
export function exportedColumns(table: TableInfo): ColumnInfo[] {
  return table.columns.filter((column) => column.generatedExpression === null);
}

export function qualifiedName(object: QualifiedName): string {
  return `${object.schema}.${object.name}`;
}

/** Quotes an identifier the way quote_ident() does: only when it has to. */
export function quoteIdent(identifier: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(identifier) && !RESERVED_WORDS.has(identifier)
    ? identifier
    : `"${identifier.replaceAll('"', '""')}"`;
}

export function quoteQualified(object: QualifiedName): string {
  return `${quoteIdent(object.schema)}.${quoteIdent(object.name)}`;
}

/** Quotes a string literal (standard_conforming_strings on). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

// Reserved key words (PostgreSQL 15, "reserved" and "reserved (can be function or type)").
const RESERVED_WORDS = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate ' +
    'collation column concurrently constraint create cross current_catalog current_date current_role ' +
    'current_schema current_time current_timestamp current_user default deferrable desc distinct do else ' +
    'end except false fetch for foreign freeze from full grant group having ilike in initially inner ' +
    'intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not ' +
    'notnull null offset on only or order outer overlaps placing primary references returning right select ' +
    'session_user similar some symmetric system_user table tablesample then to trailing true union unique ' +
    'user using variadic verbose when where window with'
  ).split(' '),
);
