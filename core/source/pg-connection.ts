import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { DatabaseError, errorMessage, UsageError } from '../errors.js';
import { redactSecrets } from '../redact-secrets.js';
import { SESSION_SETTINGS } from './source.js';

/** The URL without its credentials (userinfo password, password=, sslpassword=, sslkey=), for messages. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
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
 * Where node-postgres will connect for this URL: its own parse (the last of repeated parameters
 * wins, `?host=` over the authority), then the PG* environment variables (PGHOST for
 * `postgres:///db`), then its defaults. Checking anything else is how a remote server passed as
 * local before.
 */
export function connectionHost(url: string): string {
  parseDatabaseUrl(url);
  // As node-postgres's ConnectionParameters reads it: pg-connection-string's parse (which pg uses),
  // then PGHOST, then pg's default.
  return parseConnectionString(url).host || process.env.PGHOST || 'localhost';
}

/**
 * True when the URL points at this machine: loopback addresses, `localhost`, or a Unix socket
 * (`host=/var/run/postgresql`). confirmLocalServer checks the server itself once connected.
 */
export function isLocalDatabase(url: string): boolean {
  const host = connectionHost(url).replace(/^\[|\]$/g, '');
  return (
    host.startsWith('/') || host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host)
  );
}

function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address) || /^::ffff:127\./i.test(address);
}

/**
 * Confirms on the connection itself that the server is on this machine: `inet_server_addr()` is
 * NULL over a Unix socket and a loopback address over TCP. A name that resolves elsewhere (an
 * edited hosts file, a tunnel's remote end) fails here.
 */
export async function confirmLocalServer(client: pg.Client, url: string): Promise<void> {
  const { rows } = await client.query<{ address: string | null }>(
    'SELECT host(inet_server_addr()) AS address',
  );
  const address = rows[0]?.address ?? null;
  if (address === null || isLoopbackAddress(address)) return;
  throw new UsageError(
    `Refusing to import into ${redactUrl(url)}: the server answered from ${address}, which is not this machine, and an import replaces data.`,
    { hint: 'Pass --allow-remote if this really is a development database.' },
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
  let client: pg.Client;
  try {
    client = new pg.Client({
      connectionString: url,
      application_name: options.applicationName,
      connectionTimeoutMillis: 15_000,
      statement_timeout: options.statementTimeoutMs ?? 0,
      lock_timeout: options.lockTimeoutMs ?? 0,
    });
  } catch (error) {
    // The driver reads sslkey/sslcert/sslrootcert files here: a missing one is the user's to fix.
    throw connectionError(url, error);
  }
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
