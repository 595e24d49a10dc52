import pg from 'pg';
import { quoteIdent } from '../core/schema/schema-model.js';

/** Runs `fn` with a plain client connected to `url`, then closes it (demo and bench). */
export async function withPgClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A `schema.table` name as SQL, each part quoted. */
export function quoteTableName(table: string): string {
  return table.split('.').map(quoteIdent).join('.');
}
