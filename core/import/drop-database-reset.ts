import { randomBytes } from 'node:crypto';
import { DatabaseError, errorMessage } from '../errors.js';
import { quoteIdent } from '../schema/schema-model.js';
import { connectPg, withDatabase } from '../source/pg-connection.js';
import {
  afterEnding,
  backendPid,
  databaseExists,
  dropDatabase,
  siblingDatabaseName,
  terminateSessions,
} from './pg-admin.js';
import type { ResetContext, ResetMode, ResetResult } from './reset-mode.js';
import { whenToUseResetMode } from './reset-mode-choices.js';
import type { TableImportSummary } from './snapshot-loader.js';

/** Marks databases devsnap builds beside the target; leftovers of killed runs are found by it. */
const WORK_DATABASE_MARK = '__devsnap_';

/**
 * Builds the snapshot into a new database beside the target and swaps the names only once it is
 * complete and checked, so the current database keeps working until the last moment and survives
 * any failure. The default: the result is exactly the snapshot, nothing of the old database stays.
 */
export const dropDatabaseReset: ResetMode = {
  name: 'drop-database',
  whenToUse: whenToUseResetMode('drop-database'),
  async run(context: ResetContext): Promise<ResetResult> {
    await removeLeftovers(context);
    const { database } = context;
    const { result: tables, previousDatabase } = await replaceDatabase(context, {
      question: `This replaces database "${database}" with the snapshot; everything in it now will be lost.`,
      create: (building) => `CREATE DATABASE ${quoteIdent(building)} TEMPLATE template0 ENCODING 'UTF8'`,
      async fill(building) {
        const buildingUrl = withDatabase(context.targetUrl, building);
        const client = await connectPg(buildingUrl, { applicationName: 'devsnap-import' });
        let summaries: TableImportSummary[];
        try {
          summaries = await context.load(client, buildingUrl);
        } finally {
          await client.end().catch(() => {});
        }
        if (context.keepTemplate) {
          await keepTemplate(context, building).catch((error: unknown) =>
            context.reporter.report({
              type: 'notice',
              message: `Could not keep a template for devsnap reset (${errorMessage(error)}); the import goes on without one.`,
            }),
          );
        } else {
          // A template of an earlier import would reset to the wrong snapshot.
          await dropDatabase(context.admin, templateDatabaseName(database));
        }
        return summaries;
      },
    });
    return { tables: tables ?? [], ...(previousDatabase ? { previousDatabase } : {}) };
  },
};

/** The pristine copy `devsnap reset` restores from: `<db>__devsnap_template`. */
export function templateDatabaseName(database: string): string {
  return siblingDatabaseName(database, `${WORK_DATABASE_MARK}template`);
}

/**
 * Copies the complete new database (nobody is connected to it yet) to the template, replacing the
 * previous one. Connections to the template are refused, so nothing changes it and a reset never
 * waits for a session on it.
 */
async function keepTemplate(context: ResetContext, building: string): Promise<void> {
  const template = templateDatabaseName(context.database);
  context.reporter.report({ type: 'phase', phase: 'template', detail: template });
  await dropDatabase(context.admin, template);
  await context.admin.query(`CREATE DATABASE ${quoteIdent(template)} TEMPLATE ${quoteIdent(building)}`);
  await context.admin.query(`ALTER DATABASE ${quoteIdent(template)} ALLOW_CONNECTIONS false`);
}

/** What replaceDatabase needs: the import's context, or a reset's. */
export type ReplaceContext = Pick<
  ResetContext,
  'admin' | 'database' | 'reporter' | 'maintenanceUrl' | 'cleanup' | 'keepPrevious' | 'confirm'
>;

/**
 * Builds a new database beside `context.database` (create, then fill), swaps the names once it is
 * complete, and drops (or keeps) the old one. The current database keeps working until the swap and
 * survives any failure or interrupt: what was built is removed.
 */
export async function replaceDatabase<T>(
  context: ReplaceContext,
  steps: {
    readonly question: string;
    readonly create: (building: string) => string;
    readonly fill?: (building: string) => Promise<T>;
  },
): Promise<{ result: T | undefined; previousDatabase?: string }> {
  const { admin, database, reporter } = context;
  const exists = await databaseExists(admin, database);
  if (exists) await context.confirm(steps.question);
  const suffix = randomBytes(3).toString('hex');
  const building = workDatabaseName(database, 'new', suffix);
  const adminPid = await backendPid(admin);
  const previous = context.keepPrevious
    ? siblingDatabaseName(database, `${WORK_DATABASE_MARK}previous`)
    : workDatabaseName(database, 'old', suffix);
  // Interrupted: end this run's sessions (a swap in flight rolls back), then drop what it built.
  // Once the swap has committed, `building` no longer exists and the old database is what is left.
  const forget = context.cleanup.add(() =>
    afterEnding(context.maintenanceUrl, [adminPid], async (cleanupAdmin) => {
      if (await databaseExists(cleanupAdmin, building)) {
        await dropDatabase(cleanupAdmin, building);
        return `removed the unfinished database "${building}"; "${database}" is unchanged`;
      }
      if (!context.keepPrevious && (await databaseExists(cleanupAdmin, previous))) {
        await dropDatabase(cleanupAdmin, previous);
        return `the new "${database}" was already in place; removed the old one`;
      }
      return undefined;
    }),
  );
  reporter.report({ type: 'phase', phase: 'create', detail: building });
  let result: T | undefined;
  try {
    await admin.query(steps.create(building));
    result = await steps.fill?.(building);
    reporter.report({ type: 'phase', phase: 'swap', detail: database });
    await swap(context, building, exists ? previous : null);
  } catch (error) {
    await dropDatabase(admin, building).catch(() => {});
    throw error;
  }
  if (exists && !context.keepPrevious) await dropDatabase(admin, previous);
  forget();
  return { result, ...(exists && context.keepPrevious ? { previousDatabase: previous } : {}) };
}

/** Renames target → previous and building → target in one transaction, retrying while sessions reconnect. */
async function swap(context: ReplaceContext, building: string, previous: string | null): Promise<void> {
  const { admin, database, reporter } = context;
  if (previous !== null && context.keepPrevious && (await databaseExists(admin, previous))) {
    reporter.report({
      type: 'notice',
      message: `Dropping "${previous}", kept by an earlier import, to keep the current "${database}" in its place (--keep-previous).`,
    });
    await dropDatabase(admin, previous);
  }
  for (let attempt = 1; ; attempt++) {
    if (previous !== null) {
      const ended = await terminateSessions(admin, database);
      if (ended > 0) {
        reporter.report({
          type: 'notice',
          message: `Ended ${ended} other session${ended === 1 ? '' : 's'} connected to "${database}" to swap in the new database.`,
        });
      }
    }
    try {
      await admin.query('BEGIN');
      if (previous !== null) {
        await admin.query(`ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(previous)}`);
      }
      await admin.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(database)}`);
      await admin.query('COMMIT');
      return;
    } catch (error) {
      await admin.query('ROLLBACK').catch(() => {});
      // 55006: a session reconnected between terminating and renaming; try again briefly.
      if ((error as { code?: string }).code !== '55006' || attempt >= 5) {
        throw new DatabaseError(
          `Could not swap the new database in for "${database}": ${errorMessage(error)}`,
          {
            cause: error,
            hint: 'Your database is unchanged. Close applications connected to it and import again.',
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** Drops databases left beside the target by an import that was killed (we hold the import lock). */
async function removeLeftovers(context: ResetContext): Promise<void> {
  const pattern = workDatabasePattern(context.database);
  const { rows } = await context.admin.query<{ datname: string }>('SELECT datname FROM pg_database');
  for (const { datname } of rows) {
    if (!pattern.test(datname)) continue;
    context.reporter.report({
      type: 'notice',
      message: `Removing "${datname}", left by an interrupted import.`,
    });
    await dropDatabase(context.admin, datname);
  }
}

function workDatabaseName(database: string, role: 'new' | 'old', suffix: string): string {
  return siblingDatabaseName(database, `${WORK_DATABASE_MARK}${role}_${suffix}`);
}

/** Matches the names workDatabaseName gives for this target (all suffixes have the same length). */
export function workDatabasePattern(database: string): RegExp {
  const head = workDatabaseName(database, 'new', '000000').slice(
    0,
    -`${WORK_DATABASE_MARK}new_000000`.length,
  );
  const escaped = head.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}${WORK_DATABASE_MARK}(new|old)_[0-9a-f]{6}$`);
}
