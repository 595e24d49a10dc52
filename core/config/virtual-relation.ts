import type { ColumnInfo, TableInfo } from '../schema/schema-model.js';

/**
 * A relation the database does not declare, as a config writes it. Columns are written as in
 * SQL: `public.comment(post_ref)`, a composite `public.line(order_no, line_no)`, a key inside JSON
 * `public.event(payload->>'user_id')` (the path ends in `->>`), and a text column read as an
 * integer `public.django_admin_log(object_id::integer)`.
 */
export type VirtualRelationConfig =
  | {
      /** How policies and the plan name it; `schema.table.column` (its first key column) by default. */
      readonly name?: string;
      /** The child's key: `schema.table(column, …)`. */
      readonly from: string;
      /** The parent's columns: `schema.table(column, …)`, or `schema.table` for its primary key. */
      readonly to: string;
    }
  | {
      readonly name?: string;
      readonly from: string;
      /** A column of the child whose value says which table the key points into. */
      readonly discriminator: string;
      /** Per discriminator value, the parent: `schema.table(column)` or `schema.table` (primary key). */
      readonly to: Readonly<Record<string, string>>;
    };

export interface RelationsConfig {
  readonly virtual?: readonly VirtualRelationConfig[];
  /**
   * Conventions recognised in the schema (default: both on). `django`: a `content_type_id` key to
   * django_content_type next to `object_id` or `object_pk`, each content type resolved to its
   * table through django_content_type(app_label, model). `rails`: `*_type` and `*_id` column pairs
   * of a Rails application (ar_internal_metadata present), class names mapped to tables.
   */
  readonly detect?: { readonly django?: boolean; readonly rails?: boolean };
  /** Detected relations to leave out, by name (as `devsnap plan` shows them). */
  readonly ignore?: readonly string[];
  /** Django content types whose table is not `app_label_model` (a model's db_table): `'shop.article': 'public.articles'`. */
  readonly contentTypes?: Readonly<Record<string, string>>;
  /** Rails class names whose table the naming rules do not find: `'Admin::User': 'public.users'`. */
  readonly railsTypes?: Readonly<Record<string, string>>;
}

/** One column of a virtual key: the child's column, a path into it when it is JSON, and a cast. */
export interface KeyPart {
  readonly column: ColumnInfo;
  /** Keys (strings) and array positions (numbers) into a JSON column; the last one is read as text. */
  readonly path: readonly (string | number)[];
  /** `integer`: the text is compared as a canonical integer (so ' 42' and '42' match 42). */
  readonly cast: 'integer' | null;
}

/** Where a virtual relation's rows point: one parent, or one per discriminator value set. */
export interface VirtualTarget {
  readonly parent: TableInfo;
  readonly columns: readonly ColumnInfo[];
  /** Discriminator values (as text) that pick this parent; null for a plain relation. */
  readonly values: readonly string[] | null;
}

/** A resolved virtual relation: configured, or detected from a convention. */
export interface VirtualRelation {
  readonly name: string;
  readonly origin: 'config' | 'django' | 'rails';
  readonly child: TableInfo;
  readonly parts: readonly KeyPart[];
  readonly discriminator: ColumnInfo | null;
  readonly targets: readonly VirtualTarget[];
  /** Discriminator values found that name no table (shown by the plan; such rows are not checked). */
  readonly unmapped: readonly string[];
}

/** How an edge of the foreign-key graph reads a virtual key (null on declared keys). */
export interface VirtualKey {
  readonly relation: string;
  readonly origin: VirtualRelation['origin'];
  readonly parts: readonly KeyPart[];
  /** Only rows whose discriminator is one of `values` point at this edge's parent. */
  readonly when: { readonly column: ColumnInfo; readonly values: readonly string[] } | null;
}
