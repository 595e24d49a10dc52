import type pg from 'pg';
import { type QualifiedName, quoteIdent, quoteQualified } from '../schema/schema-model.js';

export async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rows.length > 0;
}

/** Whether a table, sequence or other relation of that name exists in the connected database. */
export async function relationExists(client: pg.Client, relation: QualifiedName): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    quoteQualified(relation),
  ]);
  return rows[0]?.found ?? false;
}

/** Ends every other session on a database; returns how many there were. */
export async function terminateSessions(admin: pg.Client, name: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
     WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [name],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** A name derived from `base` that fits PostgreSQL's 63-byte identifier limit. */
export function siblingDatabaseName(base: string, suffix: string): string {
  let head = base;
  while (Buffer.byteLength(`${head}${suffix}`) > 63) head = head.slice(0, -1);
  return `${head}${suffix}`;
}
