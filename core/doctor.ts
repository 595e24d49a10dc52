import { mkdir, statfs } from 'node:fs/promises';
import { DevsnapError, errorMessage } from './errors.js';
import type { Manifest } from './manifest.js';
import { pruneLeftovers } from './prune.js';
import { quoteIdent } from './schema/schema-model.js';
import { inspectSnapshot } from './snapshot-catalog.js';
import { connectPg, redactUrl, withDatabase } from './source/pg-connection.js';
import { PgSource } from './source/pg-source.js';
import { checkSourcePrivileges, describeExcess } from './source/source-privileges.js';
import type { SnapshotStore } from './store/snapshot-store.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do when the check did not pass. */
  readonly fix?: string;
}

export interface DoctorOptions {
  /** A store to check (optional: without it, store checks are skipped). */
  readonly store?: () => SnapshotStore | Promise<SnapshotStore>;
  /** The database devsnap would import into. */
  readonly databaseUrl?: string;
  /** The source devsnap would export from: its role's privileges are checked (optional). */
  readonly sourceUrl?: string;
  readonly cacheDirectory: string;
  readonly nodeVersion?: string;
}

/** The oldest Node devsnap runs on (package.json engines; @faker-js/faker needs 20.19). */
const MINIMUM_NODE = [20, 19] as const;

/**
 * Checks what an onboarding script needs before `devsnap pull && devsnap import`: Node, the store
 * and its credentials, the database and its version against the snapshot's, free disk for the
 * cache. Every check runs; each failed one says what to do.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const nodeVersion = options.nodeVersion ?? process.versions.node;
  const [major = 0, minor = 0] = nodeVersion.split('.').map(Number);
  const minimum = MINIMUM_NODE.join('.');
  checks.push(
    major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1])
      ? { name: 'node', status: 'ok', detail: `Node ${nodeVersion}` }
      : {
          name: 'node',
          status: 'fail',
          detail: `Node ${nodeVersion} is too old`,
          fix: `Install Node ${minimum} or newer.`,
        },
  );

  let manifest: Manifest | undefined;
  let store: SnapshotStore | undefined;
  if (!options.store) {
    checks.push({
      name: 'store',
      status: 'skip',
      detail: 'no --store given',
      fix: 'Pass --store or set DEVSNAP_STORE.',
    });
  } else {
    try {
      store = await options.store();
      manifest = await inspectSnapshot(store, 'latest');
      checks.push({
        name: 'store',
        status: 'ok',
        detail: `${store.location}: latest is ${manifest.snapshotId} (${manifest.tables.length} tables)`,
      });
    } catch (error) {
      checks.push({
        name: 'store',
        status: 'fail',
        detail: errorMessage(error),
        fix: 'Check --store and, for s3://, your AWS credentials (aws sts get-caller-identity) and the developer policy.',
      });
    }
  }

  if (!options.databaseUrl) {
    checks.push({
      name: 'database',
      status: 'skip',
      detail: 'no --database-url given',
      fix: 'Pass --database-url or set DEVSNAP_DATABASE_URL.',
    });
  } else {
    checks.push(await checkDatabase(options.databaseUrl, manifest));
  }
  if (options.sourceUrl) checks.push(await checkSourceRole(options.sourceUrl));
  checks.push(await checkDisk(options.cacheDirectory, manifest));
  if (store || options.databaseUrl) checks.push(await checkLeftovers(store, options.databaseUrl));
  return checks;
}

/** What interrupted runs left: incomplete snapshot folders, and work databases of imports. */
async function checkLeftovers(
  store: SnapshotStore | undefined,
  databaseUrl: string | undefined,
): Promise<DoctorCheck> {
  try {
    const found = await pruneLeftovers({ store, databaseUrl, dryRun: true });
    const parts = [
      ...(found.snapshots.length > 0
        ? [`${found.snapshots.length} incomplete snapshot folder(s) (${found.snapshots.join(', ')})`]
        : []),
      ...(found.databases.length > 0
        ? [`${found.databases.length} work database(s) (${found.databases.join(', ')})`]
        : []),
    ];
    if (parts.length === 0 && found.databasesSkipped)
      return {
        name: 'leftovers',
        status: 'skip',
        detail: `work databases not checked: ${found.databasesSkipped}`,
      };
    if (parts.length === 0)
      return { name: 'leftovers', status: 'ok', detail: 'nothing left by interrupted runs' };
    const where = [
      ...(store ? [`--store ${store.location}`] : []),
      ...(databaseUrl ? [`--database-url ${redactUrl(databaseUrl)}`] : []),
    ];
    return {
      name: 'leftovers',
      status: 'warn',
      detail: `left by interrupted runs: ${parts.join(' and ')}`,
      fix: `Remove them with: devsnap prune ${where.join(' ')}`,
    };
  } catch (error) {
    return { name: 'leftovers', status: 'skip', detail: `not checked: ${errorMessage(error)}` };
  }
}

/** Whether the export's role can only read; if not, the fix is the GRANT script for one that can. */
async function checkSourceRole(url: string): Promise<DoctorCheck> {
  try {
    const source = await PgSource.connect(url);
    const privileges = await checkSourcePrivileges(source).finally(() => source.close());
    if (privileges.excess.length === 0) {
      return {
        name: 'source role',
        status: 'ok',
        detail: `${privileges.role} can only read ${privileges.database}`,
      };
    }
    return {
      name: 'source role',
      status: 'warn',
      detail: describeExcess(privileges),
      fix: `Export with a role that can only read:\n${privileges.grantScript}`,
    };
  } catch (error) {
    return {
      name: 'source role',
      status: 'fail',
      detail: errorMessage(error),
      fix: 'Check --source-url (the database devsnap export reads).',
    };
  }
}

async function checkDatabase(url: string, manifest: Manifest | undefined): Promise<DoctorCheck> {
  try {
    const client = await connectPg(withDatabase(url, 'postgres'), { applicationName: 'devsnap-doctor' });
    let version: string;
    let canCreate: boolean;
    let role: string;
    try {
      const { rows } = await client.query<{ version: string; create: boolean; role: string }>(
        `SELECT current_setting('server_version') AS version, current_user::text AS role,
                (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS create`,
      );
      version = rows[0]?.version ?? 'unknown';
      canCreate = rows[0]?.create ?? false;
      role = rows[0]?.role ?? 'unknown';
    } finally {
      await client.end();
    }
    const major = (text: string) => Number.parseInt(text, 10);
    if (manifest && major(version) < major(manifest.source.serverVersion)) {
      return {
        name: 'database',
        status: 'warn',
        detail: `PostgreSQL ${version} at ${redactUrl(url)} is older than the snapshot's source (${manifest.source.serverVersion})`,
        fix: `Use PostgreSQL ${major(manifest.source.serverVersion)} or newer locally; older servers may refuse its schema.`,
      };
    }
    if (!canCreate) {
      // The default reset mode builds the new database beside the old one: it cannot work.
      return {
        name: 'database',
        status: 'fail',
        detail: `PostgreSQL ${version} at ${redactUrl(url)}; role ${quoteIdent(role)} may not create databases, which the default --reset-mode drop-database needs`,
        fix: `Grant it (as a superuser: ALTER ROLE ${quoteIdent(role)} CREATEDB), or import with --reset-mode drop-tables.`,
      };
    }
    return { name: 'database', status: 'ok', detail: `PostgreSQL ${version} at ${redactUrl(url)}` };
  } catch (error) {
    return {
      name: 'database',
      status: 'fail',
      detail: errorMessage(error),
      // connectionError's hint fits the cause (server down, wrong password, no such database).
      fix:
        error instanceof DevsnapError && error.hint
          ? error.hint
          : `Start your local PostgreSQL, or fix --database-url (${redactUrl(url)}).`,
    };
  }
}

async function checkDisk(directory: string, manifest: Manifest | undefined): Promise<DoctorCheck> {
  try {
    await mkdir(directory, { recursive: true });
    const stats = await statfs(directory);
    const free = stats.bavail * stats.bsize;
    // The cached files, plus room for the database they become (Parquet expands several times).
    const needed = manifest ? manifest.totals.bytes * 6 : 0;
    const detail = `${Math.floor(free / 2 ** 20)} MiB free for the cache in ${directory}`;
    return free >= needed
      ? { name: 'disk', status: 'ok', detail }
      : {
          name: 'disk',
          status: 'fail',
          detail: `${detail}; the latest snapshot needs about ${Math.ceil(needed / 2 ** 20)} MiB`,
          fix: 'Free some disk space, or point DEVSNAP_CACHE_DIR at a larger disk.',
        };
  } catch (error) {
    return {
      name: 'disk',
      status: 'fail',
      detail: `Cannot use ${directory}: ${errorMessage(error)}`,
      fix: 'Set DEVSNAP_CACHE_DIR to a writable directory.',
    };
  }
}
