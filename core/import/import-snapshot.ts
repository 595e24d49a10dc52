import { availableParallelism } from 'node:os';
import type pg from 'pg';
import { relaxationWarning } from '../anonymise/relaxations.js';
import { type CleanupRegistry, noCleanup } from '../cleanup-registry.js';
import type { DevsnapConfig } from '../config/devsnap-config.js';
import { ConfirmationError, DatabaseError, UsageError } from '../errors.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { quoteQualified } from '../schema/schema-model.js';
import {
  confirmLocalServer,
  connectionError,
  connectPg,
  databaseName,
  isLocalDatabase,
  redactUrl,
  withDatabase,
} from '../source/pg-connection.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import type { SealCheck } from '../trust/check-seal.js';
import type { TrustPolicy } from '../trust/trusted-keys.js';
import { factoriesFor } from './factory-fill.js';
import { DEFAULT_LOCK_WAIT, type LockWaitPolicy } from './lock-wait.js';
import { acquireImportLock, defaultLockWait } from './pg-admin.js';
import type { ResetContext, ResetModeName } from './reset-mode.js';
import { resetModeNamed } from './reset-modes.js';
import { loadSnapshot, type TableImportSummary } from './snapshot-loader.js';
import { readManifest, verifySnapshot } from './snapshot-reader.js';
import { checkTarget, refuseProtectedName } from './target-checks.js';

export type { ResetModeName } from './reset-mode.js';
export type { TableImportSummary } from './snapshot-loader.js';

export interface ImportOptions {
  /** postgres:// URL of the target database (it need not exist for drop-database). */
  readonly databaseUrl: string;
  readonly store: SnapshotStore;
  /** Snapshot id (or a unique prefix of one) or `latest` (default). */
  readonly snapshot?: string;
  readonly resetMode?: ResetModeName;
  /** drop-database: keep the replaced database as `<name>__devsnap_previous`. */
  readonly keepPrevious?: boolean;
  /**
   * drop-database: keep a copy of the imported database as `<name>__devsnap_template`, so that
   * `devsnap reset` can restore it in a moment (default true; it takes as much disk again).
   */
  readonly keepTemplate?: boolean;
  /**
   * drop-tables: drop the user's objects that depend on snapshot tables and cannot be recreated on
   * the new ones (listed in a notice each), instead of refusing with nothing changed.
   */
  readonly dropDependents?: boolean;
  /**
   * drop-tables and none: how long one attempt waits for a lock another session holds on a
   * snapshot table, and how many attempts are made (default 5 s, 3 attempts).
   */
  readonly lockWait?: LockWaitPolicy;
  /** End the sessions holding those locks (with a notice naming each) instead of giving up. */
  readonly endSessions?: boolean;
  /** Allow a target that is not on this machine; refused by default so production is never overwritten by mistake. */
  readonly allowRemote?: boolean;
  /**
   * Build the schema with this shell command (e.g. `psql -f schema.sql`, or migrations) instead of the
   * snapshot's DDL; data is loaded into it by column name. drop-database only.
   */
  readonly schemaCommand?: string;
  /** With schemaCommand: skip columns that exist on one side only instead of refusing. */
  readonly allowMissingColumns?: boolean;
  /** The team's config: its factory strategies fill tables with generated rows at import. */
  readonly config?: DevsnapConfig;
  /**
   * How long to wait for another import on the same server to finish before giving up
   * (default: $DEVSNAP_IMPORT_LOCK_WAIT_MS, else 3 s).
   */
  readonly lockWaitMs?: number;
  /** Tables copied at once (drop-database only; default: the number of cores, at most 4). */
  readonly jobs?: number;
  /** Where a snapshot from a remote store is pulled to (default: defaultCacheDirectory()). */
  readonly cacheDirectory?: string;
  /**
   * Keys whose signature the snapshot must carry (resolveTrust: config, environment, `devsnap
   * trust`). Without any, the snapshot's digest chain is still checked, but not who made it.
   */
  readonly trust?: TrustPolicy;
  /**
   * Create functions devsnap cannot check (EXECUTE of built SQL, SECURITY DEFINER, SET options)
   * from a snapshot no trusted key signed: for a snapshot you exported yourself.
   */
  readonly allowUncheckedFunctions?: boolean;
  readonly reporter?: ProgressReporter;
  /** Records what the import has created so far, for an interrupted run to remove (the CLI's Ctrl-C). */
  readonly cleanup?: CleanupRegistry;
  /**
   * Asked before a destructive step with a sentence saying what will be lost; resolve true to go on.
   * Without it a destructive reset is refused (the CLI asks on a terminal or honours --yes).
   */
  readonly confirm?: (question: string) => Promise<boolean>;
}

export interface ImportResult {
  readonly snapshotId: string;
  readonly database: string;
  readonly resetMode: ResetModeName;
  readonly tables: readonly TableImportSummary[];
  readonly totalRows: number;
  /** --keep-previous: the name the replaced database is kept under. */
  readonly previousDatabase?: string;
  /** Whether a trusted key signed the snapshot. */
  readonly seal: SealCheck;
  /** drop-tables: the user's objects that depended on snapshot tables, recreated or dropped. */
  readonly dependents?: { readonly recreated: readonly string[]; readonly dropped: readonly string[] };
  /**
   * Set when the snapshot was exported with relaxed anonymisation (`mode: 'warn'`, `verify:
   * false`, …): it may hold personal data. The CLI prints it once the import is done.
   */
  readonly relaxedAnonymisation?: string;
  readonly durationMs: number;
}

/**
 * Imports a snapshot: checks every file against the manifest before touching any database, then
 * lets the reset mode prepare the target and load it so that a failure leaves it as it was.
 */
export async function importSnapshot(options: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  const reporter = options.reporter ?? silentReporter;
  const mode = resetModeNamed(options.resetMode ?? 'drop-database');
  const database = databaseName(options.databaseUrl);
  refuseProtectedName(database);
  if (!options.allowRemote && !isLocalDatabase(options.databaseUrl)) {
    throw new UsageError(
      `Refusing to import into ${redactUrl(options.databaseUrl)}: it is not on this machine, and an import replaces data.`,
      { hint: 'Pass --allow-remote if this really is a development database.' },
    );
  }
  if (options.schemaCommand && mode.name !== 'drop-database') {
    throw new UsageError(`--schema-command works with --reset-mode drop-database only (got ${mode.name}).`, {
      hint: 'The command builds the schema in a fresh database; drop-database swaps it in when complete.',
    });
  }
  const stored = await readManifest(options.store, options.snapshot ?? 'latest', options.trust);
  const { manifest } = stored;
  const factories = factoriesFor(options.config, manifest);

  const { client: admin, url: maintenanceUrl } = await connectMaintenance(options.databaseUrl);
  try {
    // Before any download or change: a server that is not this machine, a target that must never be
    // replaced, or rights the mode lacks.
    if (!options.allowRemote) await confirmLocalServer(admin, options.databaseUrl);
    await checkTarget(admin, { database, mode: mode.name, manifest });
    const snapshot = await verifySnapshot(options.store, stored, reporter, {
      cacheDirectory: options.cacheDirectory,
      allowUncheckedFunctions: options.allowUncheckedFunctions,
    });
    await acquireImportLock(admin, `importing into "${database}"`, options.lockWaitMs ?? defaultLockWait());
    const context: ResetContext = {
      targetUrl: options.databaseUrl,
      database,
      admin,
      maintenanceUrl,
      cleanup: options.cleanup ?? noCleanup,
      reporter,
      scripts: snapshot.schema,
      keepPrevious: options.keepPrevious ?? false,
      keepTemplate: options.keepTemplate ?? true,
      dropDependents: options.dropDependents ?? false,
      tables: manifest.tables.map(quoteQualified),
      lockWait: options.lockWait ?? DEFAULT_LOCK_WAIT,
      endSessions: options.endSessions ?? false,
      async confirm(question) {
        if (!options.confirm) {
          throw new ConfirmationError(`${question} Refusing without confirmation.`, {
            hint: 'Run it on a terminal to be asked, or pass --yes.',
          });
        }
        if (!(await options.confirm(question))) {
          throw new ConfirmationError('Import cancelled; nothing was changed.');
        }
      },
      load: (client: pg.Client, url: string) =>
        loadSnapshot(client, url, snapshot, reporter, {
          schemaCommand: options.schemaCommand,
          allowMissingColumns: options.allowMissingColumns,
          factories,
          // Only a database built beside the target can take several connections at once.
          connect:
            mode.name === 'drop-database'
              ? () => connectPg(url, { applicationName: 'devsnap-import' })
              : undefined,
          jobs: options.jobs ?? Math.min(4, availableParallelism()),
        }),
    };
    reporter.report({ type: 'phase', phase: 'import', detail: `${mode.name} into ${database}` });
    const { tables, dependents, previousDatabase } = await mode.run(context);
    const relaxed = relaxationWarning(manifest);
    return {
      snapshotId: manifest.snapshotId,
      database,
      resetMode: mode.name,
      tables,
      totalRows: tables.reduce((sum, table) => sum + table.rows, 0),
      seal: stored.seal,
      ...(dependents ? { dependents } : {}),
      ...(previousDatabase ? { previousDatabase } : {}),
      ...(relaxed ? { relaxedAnonymisation: relaxed } : {}),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await admin.end().catch(() => {});
  }
}

/** The server's `postgres` database (or `template1`), where databases are created and renamed. */
async function connectMaintenance(url: string): Promise<{ client: pg.Client; url: string }> {
  const postgres = withDatabase(url, 'postgres');
  try {
    return { client: await connectPg(postgres, { applicationName: 'devsnap-import' }), url: postgres };
  } catch (error) {
    if (!(error instanceof DatabaseError) || (error.cause as { code?: string })?.code !== '3D000')
      throw error;
    const template1 = withDatabase(url, 'template1');
    try {
      return { client: await connectPg(template1, { applicationName: 'devsnap-import' }), url: template1 };
    } catch (fallbackError) {
      throw connectionError(url, fallbackError);
    }
  }
}
