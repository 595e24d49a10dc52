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
   * Functions outside pg_catalog (regprocedure text) that the default or generated expression
   * calls. devsnap does not recreate functions, so the schema DDL leaves such an expression out.
   * Absent when there are none.
   */
  readonly requiredFunctions?: readonly string[];
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
  readonly uncaptured: readonly UncapturedObject[];
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
