import type pg from 'pg';
import { SnapshotIntegrityError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { qualifiedName, quoteIdent, quoteQualified } from '../schema/schema-model.js';
import { virtualKeyExpression } from '../subset/key-expressions.js';

type ManifestRelation = NonNullable<Manifest['relations']>[number];

/**
 * The import's check of keys the database does not declare: every child row whose virtual key is
 * set must find its parent row, as a foreign-key constraint would. The manifest is untrusted: its
 * names are quoted identifiers (checked against its tables by the schema), its values parameters.
 */
export async function checkRelations(client: pg.Client, manifest: Manifest): Promise<void> {
  const problems: string[] = [];
  for (const relation of manifest.relations ?? []) {
    const dangling = await danglingRows(client, relation);
    if (dangling > 0) {
      problems.push(
        `${qualifiedName(relation.child)}: ${dangling} row${dangling === 1 ? '' : 's'} through ${relation.name} point at ${qualifiedName(relation.parent)} rows the snapshot does not have`,
      );
    }
  }
  if (problems.length > 0) {
    throw new SnapshotIntegrityError(
      `Keys the database does not declare do not hold after loading:\n  ${problems.join('\n  ')}`,
      { hint: 'The snapshot does not match its manifest; export it again. Your database was not changed.' },
    );
  }
}

async function danglingRows(client: pg.Client, relation: ManifestRelation): Promise<number> {
  const params: string[] = [];
  const literal = (value: string) => {
    params.push(value);
    return `$${params.length}::text`;
  };
  const keys = relation.parts.map((part) =>
    virtualKeyExpression(
      { column: part.column, path: part.path, cast: part.cast },
      relation.when,
      's',
      literal,
    ),
  );
  const matches = relation.parts
    .map((part, i) => `p.${quoteIdent(part.referencedColumn)}::text = ${keys[i]}`)
    .join(' AND ');
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${quoteQualified(relation.child)} s
     WHERE ${keys.map((key) => `${key} IS NOT NULL`).join(' AND ')}
       AND NOT EXISTS (SELECT 1 FROM ${quoteQualified(relation.parent)} p WHERE ${matches})`,
    params,
  );
  return Number(rows[0]?.n ?? 0);
}
