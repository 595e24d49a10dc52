import { quoteIdent, quoteLiteral } from '../schema/schema-model.js';
import type { ForeignKeyEdge } from './foreign-key-graph.js';
import { columnRefs } from './row-identity.js';

/**
 * SQL for the two sides of a foreign key. A declared key reads its columns (cast to the parent's
 * types where they differ). A virtual key is compared as text — the child's value as text (a JSON
 * key read with ->>, an integer cast made canonical) against the parent's column as text — and a
 * polymorphic edge's key is NULL on rows whose discriminator picks another table, so such rows
 * reference nothing through it. The engine compares keys as PostgreSQL's text output either way.
 */
export function childKeyExpressions(edge: ForeignKeyEdge, alias: string): string[] {
  const { virtual } = edge;
  if (virtual === null) {
    return edge.columns.map((column, i) => {
      const referenced = edge.referencedColumns[i];
      const sql = `${alias}.${quoteIdent(column.name)}`;
      return referenced && referenced.dataType !== column.dataType ? `${sql}::${referenced.dataType}` : sql;
    });
  }
  return virtual.parts.map((part) =>
    virtualKeyExpression(
      { column: part.column.name, path: part.path, cast: part.cast },
      virtual.when ? { column: virtual.when.column.name, values: virtual.when.values } : null,
      alias,
      quoteLiteral,
    ),
  );
}

/** One part of a virtual key by column names (the import checks keys a manifest describes). */
export interface VirtualKeyPart {
  readonly column: string;
  readonly path: readonly (string | number)[];
  readonly cast: 'integer' | null;
}

/**
 * The text of one part of a virtual key over the child aliased `alias`: the column as text (a
 * JSON path read with ->>), canonical where cast to an integer, NULL where the discriminator picks
 * another parent. `literal` writes a value into the SQL: quoted by the exporter, which built it,
 * or as a parameter by the import, which reads it from a snapshot.
 */
export function virtualKeyExpression(
  part: VirtualKeyPart,
  when: { readonly column: string; readonly values: readonly string[] } | null,
  alias: string,
  literal: (value: string) => string,
): string {
  let sql = `${alias}.${quoteIdent(part.column)}`;
  part.path.forEach((step, i) => {
    const operator = i === part.path.length - 1 ? '->>' : '->';
    sql = `${sql}${operator}${typeof step === 'number' ? `${literal(String(step))}::int` : `${literal(step)}::text`}`;
  });
  if (part.path.length === 0) sql = `${sql}::text`;
  if (part.cast === 'integer') {
    // Canonical integer text where the text is an integer (18 digits fit int8); other text stays as it is.
    sql = `(CASE WHEN btrim(${sql}) ~ '^[-+]?[0-9]{1,18}$' THEN btrim(${sql})::int8::text ELSE ${sql} END)`;
  }
  if (when) {
    const values = when.values.map(literal).join(', ');
    sql = `(CASE WHEN ${alias}.${quoteIdent(when.column)}::text IN (${values}) THEN ${sql} END)`;
  }
  return sql;
}

/**
 * The child's key for a condition on the server: a declared key's own columns, uncast, so an
 * index on them serves the lookup; a virtual key's text expressions.
 */
export function childKeyLookup(edge: ForeignKeyEdge, alias: string): { sql: string[]; types: string[] } {
  if (edge.virtual === null) {
    return {
      sql: columnRefs(edge.columns, alias),
      types: edge.referencedColumns.map((column) => column.dataType),
    };
  }
  return { sql: childKeyExpressions(edge, alias), types: edge.referencedColumns.map(() => 'text') };
}

/** The parent's referenced columns, comparable with childKeyLookup's expressions. */
export function parentKeyLookup(edge: ForeignKeyEdge, alias: string): string[] {
  const columns = columnRefs(edge.referencedColumns, alias);
  return edge.virtual === null ? columns : columns.map((sql) => `${sql}::text`);
}
