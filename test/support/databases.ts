import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A connected client; closed by drop(). */
  readonly client: pg.Client;
  drop(): Promise<void>;
}

export function serverUrl(database = 'postgres'): string {
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

export function uniqueDatabaseName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Runs `fn` with a client connected to the server's postgres database, then closes it. */
export function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withDatabase('postgres', fn);
}

/** Drops a test database and the template an import kept beside it for `devsnap reset`. */
export async function dropDatabase(name: string): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS "${name}__devsnap_template"`);
  });
}

/** Creates an empty throwaway database on the test server. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = uniqueDatabaseName(prefix);
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`));
  return connectTestDatabase(name);
}

/** Connects to an existing database of the test server, which drop() then removes. */
export async function connectTestDatabase(name: string): Promise<TestDatabase> {
  const url = serverUrl(name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    name,
    url,
    client,
    async drop() {
      await client.end().catch(() => {});
      await dropDatabase(name);
    },
  };
}

/** Runs `fn` with a client connected to a database of the test server, then closes it. */
export async function withDatabase<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The rows of one query against a database of the test server. */
export async function queryDatabase<R extends pg.QueryResultRow = pg.QueryResultRow>(
  database: string,
  sql: string,
): Promise<R[]> {
  return withDatabase(database, async (client) => (await client.query<R>(sql)).rows);
}

/** Names of the test server's databases that start with `prefix`, sorted. */
export async function databasesLike(prefix: string): Promise<string[]> {
  return withAdmin(async (admin) =>
    (
      await admin.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1',
        [prefix],
      )
    ).rows.map((row) => row.datname),
  );
}
