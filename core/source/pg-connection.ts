import pg from 'pg';
import { DatabaseError, errorMessage, UsageError } from '../errors.js';
import { SESSION_SETTINGS } from './source.js';

/** The URL with its password removed, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid database URL>';
  }
}

export function parseDatabaseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`The database URL ${JSON.stringify(redactUrl(url))} is not a valid URL.`, {
      hint: 'Use the form postgres://user:password@host:5432/database.',
    });
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new UsageError(`The database URL must start with postgres:// (got ${parsed.protocol}//).`, {
      hint: 'Use the form postgres://user:password@host:5432/database.',
    });
  }
  if (parsed.pathname.length <= 1) {
    throw new UsageError(`The database URL ${redactUrl(url)} names no database.`, {
      hint: 'Add the database name after the host, e.g. postgres://localhost:5432/app_dev.',
    });
  }
  return parsed;
}

/**
 * True when the URL points at this machine: loopback addresses, `localhost`, or a Unix socket
 * (`host=/var/run/postgresql` or an empty host).
 */
export function isLocalDatabase(url: string): boolean {
  const parsed = parseDatabaseUrl(url);
  const socketHost = parsed.searchParams.get('host');
  const host = (socketHost ?? decodeURIComponent(parsed.hostname)).replace(/^\[|\]$/g, '');
  return (
    host === '' ||
    host.startsWith('/') ||
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}

export function databaseName(url: string): string {
  return decodeURIComponent(parseDatabaseUrl(url).pathname.slice(1));
}

/** The same server, another database (used to create, rename and drop databases). */
export function withDatabase(url: string, database: string): string {
  const parsed = parseDatabaseUrl(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * Connects with devsnap's fixed session settings (text formats, UTC) and translates the driver's
 * connection errors into one clear message that never shows the password.
 */
export async function connectPg(
  url: string,
  options: { applicationName: string; statementTimeoutMs?: number; lockTimeoutMs?: number },
): Promise<pg.Client> {
  parseDatabaseUrl(url);
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName,
    connectionTimeoutMillis: 15_000,
    statement_timeout: options.statementTimeoutMs ?? 0,
    lock_timeout: options.lockTimeoutMs ?? 0,
  });
  // An idle client whose server goes away emits 'error'; the pending query reports it instead.
  client.on('error', () => {});
  try {
    await client.connect();
    const settings = Object.entries(SESSION_SETTINGS)
      .map(([name, value]) => `SET ${name} = '${value}'`)
      .join('; ');
    await client.query(settings);
  } catch (error) {
    await client.end().catch(() => {});
    throw connectionError(url, error);
  }
  return client;
}

export function connectionError(url: string, error: unknown): DatabaseError {
  const code = (error as { code?: string } | undefined)?.code;
  const message = errorMessage(error);
  const where = redactUrl(url);
  // pg's SASL errors ("SCRAM-SERVER-FIRST-MESSAGE: client password must be a string") mean the
  // server wants a password and none was found in the URL or ~/.pgpass.
  const noPassword = /SASL|SCRAM/.test(message) && !passwordOf(url);
  const [reason, hint] =
    code === 'ECONNREFUSED'
      ? [
          'the connection was refused (is the server running and listening on that host and port?)',
          'Start your PostgreSQL server, or fix the host and port in --database-url (or DEVSNAP_DATABASE_URL).',
        ]
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? [
            'the host name could not be resolved',
            'Fix the host name in --database-url (or DEVSNAP_DATABASE_URL).',
          ]
        : code === '3D000'
          ? [
              'the database does not exist',
              'Create it, fix the database name in --database-url, or import with --reset-mode drop-database (it creates it).',
            ]
          : code === '28P01' || code === '28000'
            ? [
                'the server rejected the user name or password',
                'Check the user and password in --database-url (or DEVSNAP_DATABASE_URL, or ~/.pgpass).',
              ]
            : noPassword
              ? [
                  'the server asks for a password and none was given',
                  'Put it in --database-url (postgres://user:password@host/db) or in ~/.pgpass.',
                ]
              : [message, 'Check --database-url (or DEVSNAP_DATABASE_URL) and that the server is reachable.'];
  return new DatabaseError(`Could not connect to ${where}: ${reason}.`, { cause: error, hint });
}

function passwordOf(url: string): string {
  try {
    return new URL(url).password;
  } catch {
    return '';
  }
}
