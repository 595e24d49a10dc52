import type pg from 'pg';
import { quoteTableName, withPgClient } from '../tools/pg-client.js';

export interface DatabaseComparison {
  /** `schema.table` whose row counts differ, with both counts. */
  readonly rowCountMismatches: readonly { table: string; source: number; target: number | undefined }[];
  /** `schema.table` whose rows differ in content although their counts may match. */
  readonly contentDiffers: readonly string[];
  /** Catalog objects of the source (`view billing.x`, `index public.y`, …) the target lacks. */
  readonly missingObjects: readonly string[];
  /** How many catalog objects of each kind the source has, for the summary line. */
  readonly sourceObjects: ReadonlyMap<string, number>;
}

// User-visible objects a restored database should have, named so source and target compare as strings.
const CATALOG_OBJECTS_SQL = `
  SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
           WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' ELSE 'index' END AS kind,
         n.nspname || '.' || c.relname AS name
  FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
  UNION ALL
  SELECT 'constraint', n.nspname || '.' || co.conname
  FROM pg_constraint AS co JOIN pg_namespace AS n ON n.oid = co.connamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT CASE t.typtype WHEN 'e' THEN 'enum' ELSE 'domain' END, n.nspname || '.' || t.typname
  FROM pg_type AS t JOIN pg_namespace AS n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`;

async function describeDatabase(client: pg.Client, tables: readonly string[]) {
  const counts = new Map<string, number>();
  const digests = new Map<string, string>();
  for (const table of tables) {
    // Row text in a fixed order: equal digests mean equal rows, independent of physical order.
    const { rows } = await client.query<{ n: string; digest: string | null }>(
      `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest FROM ${quoteTableName(table)} AS t`,
    );
    counts.set(table, Number(rows[0]?.n ?? 0));
    digests.set(table, rows[0]?.digest ?? '');
  }
  const objects = await client.query<{ kind: string; name: string }>(CATALOG_OBJECTS_SQL);
  return { counts, digests, objects: objects.rows };
}

/**
 * Compares a copy with its source: row counts and content per table, and which catalog objects
 * made it. For the demo, where the copy should be the source exactly (no anonymisation yet).
 */
export async function compareDatabases(
  sourceUrl: string,
  targetUrl: string,
  tables: readonly string[],
): Promise<DatabaseComparison> {
  const source = await withPgClient(sourceUrl, (client) => describeDatabase(client, tables));
  const target = await withPgClient(targetUrl, async (client) => {
    const existing = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class AS c
       JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')`,
    );
    const present = new Set(existing.rows.map((row) => row.name));
    return describeDatabase(
      client,
      tables.filter((table) => present.has(table)),
    );
  });
  const label = (object: { kind: string; name: string }) => `${object.kind} ${object.name}`;
  const targetObjects = new Set(target.objects.map(label));
  const sourceObjects = new Map<string, number>();
  for (const { kind } of source.objects) sourceObjects.set(kind, (sourceObjects.get(kind) ?? 0) + 1);
  return {
    rowCountMismatches: tables
      .filter((table) => source.counts.get(table) !== target.counts.get(table))
      .map((table) => ({ table, source: source.counts.get(table) ?? 0, target: target.counts.get(table) })),
    contentDiffers: tables.filter(
      (table) => target.digests.has(table) && source.digests.get(table) !== target.digests.get(table),
    ),
    missingObjects: source.objects
      .map(label)
      .filter((object) => !targetObjects.has(object))
      .sort(),
    sourceObjects,
  };
}
