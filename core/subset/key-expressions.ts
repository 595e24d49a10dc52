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
  return virtual.parts.map((part) => {
    let sql = `${alias}.${quoteIdent(part.column.name)}`;
    part.path.forEach((step, i) => {
      const operator = i === part.path.length - 1 ? '->>' : '->';
      sql = `${sql}${operator}${typeof step === 'number' ? String(step) : quoteLiteral(step)}`;
    });
    if (part.path.length === 0) sql = `${sql}::text`;
    if (part.cast === 'integer') {
      // Canonical integer text where the text is an integer (18 digits fit int8); other text stays as it is.
      sql = `(CASE WHEN btrim(${sql}) ~ '^[-+]?[0-9]{1,18}$' THEN btrim(${sql})::int8::text ELSE ${sql} END)`;
    }
    if (virtual.when) {
      const values = virtual.when.values.map(quoteLiteral).join(', ');
      sql = `(CASE WHEN ${alias}.${quoteIdent(virtual.when.column.name)}::text IN (${values}) THEN ${sql} END)`;
    }
    return sql;
  });
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
