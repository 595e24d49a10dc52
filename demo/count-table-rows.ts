import pg from 'pg';

/** Exact row counts (`count(*)`) of `schema.table` names in one database, for verifying a copy. */
export async function countTableRows(
  databaseUrl: string,
  tables: readonly string[],
): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const counts = new Map<string, number>();
    for (const table of tables) {
      const quoted = table
        .split('.')
        .map((part) => client.escapeIdentifier(part))
        .join('.');
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted}`);
      counts.set(table, Number(rows[0]?.n ?? 0));
    }
    return counts;
  } finally {
    await client.end();
  }
}
