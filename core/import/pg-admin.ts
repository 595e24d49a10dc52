import type pg from 'pg';
import { DatabaseError } from '../errors.js';
import { type QualifiedName, quoteIdent, quoteQualified } from '../schema/schema-model.js';
import { connectPg } from '../source/pg-connection.js';

/** Server-wide advisory lock key: one import (or prune of work databases) at a time per server. */
export const IMPORT_LOCK = { classId: 0x64657673, objectId: 1 } as const;

/** Takes the import lock for this session if no other holds it; held until the session ends. */
export async function tryImportLock(admin: pg.Client): Promise<boolean> {
  const { rows } = await admin.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [
    IMPORT_LOCK.classId,
    IMPORT_LOCK.objectId,
  ]);
  return rows[0]?.locked ?? false;
}

/** Databases on the server whose names match `pattern` (an import's work databases). */
export async function databasesMatching(admin: pg.Client, pattern: RegExp): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1');
  return rows.map((row) => row.datname).filter((name) => pattern.test(name));
}

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

/** The server process of a connection, so that a cleanup can end it from another one. */
export async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]?.pid ?? 0;
}

/**
 * Runs `fn` on a fresh connection to the maintenance database after ending the given server
 * processes (their open transactions roll back): an interrupted run's cleanup cannot use a
 * connection that is still busy with the work it undoes.
 */
export async function afterEnding<T>(
  maintenanceUrl: string,
  pids: readonly number[],
  fn: (admin: pg.Client) => Promise<T>,
): Promise<T> {
  const admin = await connectPg(maintenanceUrl, { applicationName: 'devsnap-cleanup' });
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [pids]);
    return await fn(admin);
  } finally {
    await admin.end().catch(() => {});
  }
}

/** How long to wait for another import's lock: $DEVSNAP_IMPORT_LOCK_WAIT_MS, else 3 s. */
export function defaultLockWait(): number {
  const configured = Number(process.env.DEVSNAP_IMPORT_LOCK_WAIT_MS);
  return Number.isFinite(configured) && configured >= 0 ? configured : 3000;
}

/**
 * Takes the import lock, waiting up to `waitMs` for another holder; false if it is still held.
 * Waits a little by default: a killed import's session can take a moment to end on the server.
 */
export async function waitForImportLock(admin: pg.Client, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryImportLock(admin)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Held by this session until it ends, so a killed import releases it with its connection. */
export async function acquireImportLock(admin: pg.Client, doing: string, waitMs: number): Promise<void> {
  if (await waitForImportLock(admin, waitMs)) return;
  const holder = await admin.query<{ pid: number; application_name: string; backend_start: string }>(
    `SELECT a.pid, a.application_name, a.backend_start::text
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.granted`,
    [IMPORT_LOCK.classId, IMPORT_LOCK.objectId],
  );
  const who = holder.rows[0];
  throw new DatabaseError(
    `Another devsnap import is running on this server${who ? ` (server process ${who.pid}, ${who.application_name}, since ${who.backend_start})` : ''}; not ${doing}.`,
    { hint: 'Wait for it to finish, or stop it, then run the command again.' },
  );
}
