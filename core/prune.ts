import type pg from 'pg';
import { workDatabasePattern } from './import/drop-database-reset.js';
import { databasesMatching, defaultLockWait, dropDatabase, waitForImportLock } from './import/pg-admin.js';
import { type ProgressReporter, silentReporter } from './progress.js';
import { connectPg, databaseName, withDatabase } from './source/pg-connection.js';
import { applyRetention } from './store/apply-retention.js';
import type { SnapshotStore } from './store/snapshot-store.js';

export interface PruneOptions {
  /** Remove incomplete snapshot folders (and, with keep, old snapshots) from this store. */
  readonly store?: SnapshotStore;
  /** Remove the work databases that interrupted imports into this database left beside it. */
  readonly databaseUrl?: string;
  /** Keep the newest N complete snapshots and delete older ones (`latest` is always kept). */
  readonly keep?: number;
  /** Incomplete folders younger than this may be a running export and stay (default 24 h). */
  readonly abandonedAfterHours?: number;
  readonly dryRun?: boolean;
  readonly reporter?: ProgressReporter;
  readonly now?: Date;
}

export interface PruneResult {
  /** Snapshot ids removed (or, dry run, to remove): incomplete folders and snapshots beyond `keep`. */
  readonly snapshots: readonly string[];
  /** Complete snapshots kept, newest first, and the one `latest` names. */
  readonly kept: readonly string[];
  readonly latest: string | null;
  /** Work databases removed (or to remove). */
  readonly databases: readonly string[];
  /** Why work databases were not looked at (another import is running), if so. */
  readonly databasesSkipped?: string;
}

/**
 * Removes what interrupted runs left behind — snapshot folders without a manifest, the target's
 * `<db>__devsnap_new_…` and `<db>__devsnap_old_…` databases — and, with `keep`, complete snapshots beyond the newest N. Never
 * what `latest` names, never a folder young enough to be a running export, and never a database
 * while an import holds the server's import lock.
 */
export async function pruneLeftovers(options: PruneOptions): Promise<PruneResult> {
  const reporter = options.reporter ?? silentReporter;
  let snapshots: readonly string[] = [];
  let kept: readonly string[] = [];
  let latest: string | null = null;
  if (options.store) {
    const result = await applyRetention(
      options.store,
      {
        ...(options.keep === undefined ? { abandonedOnly: true } : { keepNewest: options.keep }),
        abandonedAfterHours: options.abandonedAfterHours,
        dryRun: options.dryRun,
        now: options.now,
      },
      reporter,
    );
    ({ deleted: snapshots, kept, latest } = result);
  }
  if (!options.databaseUrl) return { snapshots, kept, latest, databases: [] };
  const admin = await connectPg(withDatabase(options.databaseUrl, 'postgres'), {
    applicationName: 'devsnap-prune',
  });
  try {
    return { snapshots, kept, latest, ...(await pruneDatabases(admin, options, reporter)) };
  } finally {
    await admin.end().catch(() => {});
  }
}

async function pruneDatabases(
  admin: pg.Client,
  options: PruneOptions,
  reporter: ProgressReporter,
): Promise<Pick<PruneResult, 'databases' | 'databasesSkipped'>> {
  // A running import's work database looks like a leftover: hold the import lock while dropping.
  if (!(await waitForImportLock(admin, defaultLockWait()))) {
    return {
      databases: [],
      databasesSkipped: 'an import is running on this server; its work databases stay',
    };
  }
  const databases = await databasesMatching(
    admin,
    workDatabasePattern(databaseName(options.databaseUrl as string)),
  );
  for (const name of options.dryRun ? [] : databases) {
    reporter.report({ type: 'notice', message: `Dropping "${name}", left by an interrupted import.` });
    await dropDatabase(admin, name);
  }
  return { databases };
}
