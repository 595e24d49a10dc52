import { quoteTableName, withPgClient } from '../tools/pg-client.js';

/** Exact row counts (`count(*)`) of `schema.table` names in one database, for verifying a copy. */
export async function countTableRows(
  databaseUrl: string,
  tables: readonly string[],
): Promise<Map<string, number>> {
  return withPgClient(databaseUrl, async (client) => {
    const counts = new Map<string, number>();
    for (const table of tables) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${quoteTableName(table)}`,
      );
      counts.set(table, Number(rows[0]?.n ?? 0));
    }
    return counts;
  });
}
