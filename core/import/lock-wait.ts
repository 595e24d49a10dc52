import type pg from 'pg';
import { DatabaseError } from '../errors.js';

/** The option that ends the sessions holding locks an import waits for. */
export const END_SESSIONS_OPTION = '--end-sessions';

/** How long one attempt waits for a lock, and how many attempts an import makes. */
export interface LockWaitPolicy {
  readonly timeoutMs: number;
  readonly attempts: number;
}

export const DEFAULT_LOCK_WAIT: LockWaitPolicy = { timeoutMs: 5000, attempts: 3 };

/** Another session holding a lock on a table the import must change. */
export interface LockHolder {
  readonly pid: number;
  readonly applicationName: string;
  readonly user: string;
  /** When its transaction (or, outside one, its connection) began. */
  readonly since: string;
  readonly tables: string;
}

/** True when the error, or one it wraps, is PostgreSQL's lock_not_available (lock_timeout expired). */
export function isLockTimeout(error: unknown): boolean {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: string }).code === '55P03') return true;
  }
  return false;
}

/** Sessions that hold a lock on any of `tables` (quoted qualified names) in the connected database. */
export async function lockHolders(client: pg.Client, tables: readonly string[]): Promise<LockHolder[]> {
  const { rows } = await client.query<LockHolder>(
    `SELECT a.pid, coalesce(nullif(a.application_name, ''), 'no application_name') AS "applicationName",
            a.usename::text AS "user", to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ') AS since,
            string_agg(DISTINCT format('%s.%s', n.nspname, c.relname), ', ') AS tables
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND coalesce(pg_partition_root(l.relation), l.relation) IN (SELECT to_regclass(name) FROM unnest($1::text[]) name)
      GROUP BY a.pid, a.application_name, a.usename, a.xact_start, a.backend_start
      ORDER BY a.pid`,
    [tables],
  );
  return rows;
}

export function describeHolder(holder: LockHolder): string {
  return `session ${holder.pid} (${holder.applicationName}, user ${holder.user}, since ${holder.since}) holds ${holder.tables}`;
}

export async function endSessions(client: pg.Client, holders: readonly LockHolder[]): Promise<void> {
  await client.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [
    holders.map((holder) => holder.pid),
  ]);
}

export function lockWaitError(
  database: string,
  holders: readonly LockHolder[],
  policy: LockWaitPolicy,
): DatabaseError {
  const waited = `${(policy.timeoutMs * policy.attempts) / 1000} s`;
  return new DatabaseError(
    `Gave up after waiting ${waited} for locks on the snapshot's tables in "${database}"; nothing was changed.` +
      (holders.length > 0 ? `\n  ${holders.map(describeHolder).join('\n  ')}` : ''),
    {
      hint: `Close ${holders.length === 1 ? 'that session' : 'those sessions'} (or commit its transaction), or pass ${END_SESSIONS_OPTION} to end ${holders.length === 1 ? 'it' : 'them'} and import.`,
    },
  );
}
