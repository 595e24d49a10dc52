import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface PgClientTools {
  readonly pgDump: string;
  readonly pgRestore: string;
  readonly psql: string;
  /** e.g. `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` */
  readonly version: string;
}

/**
 * The machine's PostgreSQL client tools (pg_dump, pg_restore, psql), or undefined with the reason.
 * `DEVSNAP_PG_BIN_DIR` picks another directory; the default is `/usr/bin`. Their major version must
 * be at least the server's, or pg_dump refuses to run.
 */
export async function findPgClientTools(
  serverMajor: number,
): Promise<{ tools: PgClientTools } | { tools: undefined; reason: string }> {
  const dir = process.env.DEVSNAP_PG_BIN_DIR ?? '/usr/bin';
  const paths = { pgDump: join(dir, 'pg_dump'), pgRestore: join(dir, 'pg_restore'), psql: join(dir, 'psql') };
  for (const path of Object.values(paths)) {
    try {
      await access(path, constants.X_OK);
    } catch {
      return {
        tools: undefined,
        reason: `${path} not found (install postgresql-client-${serverMajor} or set DEVSNAP_PG_BIN_DIR)`,
      };
    }
  }
  const { stdout } = await promisify(execFile)(paths.pgDump, ['--version']);
  const version = stdout.trim();
  const major = Number(/\(PostgreSQL\) (\d+)/.exec(version)?.[1]);
  if (!(major >= serverMajor)) {
    return {
      tools: undefined,
      reason: `${version} is older than the server (${serverMajor}); pg_dump would refuse`,
    };
  }
  return { tools: { ...paths, version } };
}
