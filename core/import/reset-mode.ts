import type pg from 'pg';
import type { CleanupRegistry } from '../cleanup-registry.js';
import type { ProgressReporter } from '../progress.js';
import type { LockWaitPolicy } from './lock-wait.js';
import type { SchemaScript } from './schema-script.js';
import type { TableImportSummary } from './snapshot-loader.js';

export type ResetModeName = 'drop-database' | 'drop-tables' | 'none';

/** What a reset mode gets from the import: where to load, how to ask, and the loader itself. */
export interface ResetContext {
  /** postgres:// URL of the target database. */
  readonly targetUrl: string;
  /** Name of the target database. */
  readonly database: string;
  /** Connection to a maintenance database on the same server (creating, renaming, dropping databases). */
  readonly admin: pg.Client;
  /** URL of that maintenance database, for a cleanup that must work while `admin` is busy. */
  readonly maintenanceUrl: string;
  /** Where the mode records what it created, so an interrupted run can remove it. */
  readonly cleanup: CleanupRegistry;
  readonly reporter: ProgressReporter;
  /** The snapshot's schema scripts: drop.sql drops what pre-data.sql and post-data.sql create (drop-tables). */
  readonly scripts: SchemaScripts;
  /** The snapshot's tables (quoted, qualified): the ones whose locks an in-place reset waits for. */
  readonly tables: readonly string[];
  /** drop-tables and none: how long to wait for another session's locks, and how often to retry. */
  readonly lockWait: LockWaitPolicy;
  /** End the sessions that hold those locks instead of giving up. */
  readonly endSessions: boolean;
  /** drop-tables: drop the user's objects that depend on snapshot tables and cannot be recreated, instead of refusing. */
  readonly dropDependents: boolean;
  /** drop-database: keep a copy of the new database as `<name>__devsnap_template`, for `devsnap reset`. */
  readonly keepTemplate: boolean;
  /** Keep the replaced database (drop-database) under a `__devsnap_previous` name instead of dropping it. */
  readonly keepPrevious: boolean;
  /** Asks before a destructive step; throws ConfirmationError when the answer is no. */
  confirm(question: string): Promise<void>;
  /** Loads the snapshot into a client connected to `url` (pre-data, COPY, post-data, sequences, checks). */
  load(client: pg.Client, url: string): Promise<TableImportSummary[]>;
}

/**
 * How the target is prepared before loading. Each mode guarantees that a failed import leaves the
 * user's database as it was.
 */
export interface ResetMode {
  readonly name: ResetModeName;
  /** When to choose this mode; `devsnap import --help` prints it. */
  readonly whenToUse: string;
  run(context: ResetContext): Promise<ResetResult>;
}

/** The snapshot's schema scripts, parsed and checked before any database was touched. */
export interface SchemaScripts {
  readonly drop: SchemaScript;
  readonly preData: SchemaScript;
  readonly postData: SchemaScript;
}

export interface ResetResult {
  readonly tables: TableImportSummary[];
  /** drop-database with keepPrevious: the name the replaced database is kept under. */
  readonly previousDatabase?: string;
  /** drop-tables: the user's objects that depended on snapshot tables, as recreated or dropped. */
  readonly dependents?: { readonly recreated: readonly string[]; readonly dropped: readonly string[] };
}
