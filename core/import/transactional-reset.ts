import type pg from 'pg';
import { DatabaseError, errorMessage } from '../errors.js';
import { connectPg } from '../source/pg-connection.js';
import { databaseExists } from './pg-admin.js';
import type { ResetContext, ResetMode } from './reset-mode.js';
import type { TableImportSummary } from './snapshot-loader.js';

/**
 * Keeps the database and everything in it that the snapshot does not contain (other schemas,
 * roles' grants on the database, extensions), dropping and recreating only the snapshot's own
 * tables, sequences and types. All in one transaction: a failure rolls back to the old tables.
 */
export const dropTablesReset: ResetMode = {
  name: 'drop-tables',
  whenToUse:
    'keep the database and objects the snapshot does not contain; drops and recreates only the snapshot tables, in one transaction',
  run: (context) =>
    inTargetTransaction(context, async (client) => {
      await context.confirm(
        `This drops and recreates the snapshot's tables in database "${context.database}"; their current rows will be lost.`,
      );
      context.reporter.report({ type: 'phase', phase: 'drop', detail: 'snapshot tables' });
      try {
        await client.query(context.dropStatements);
      } catch (error) {
        const { detail, hint } = error as { detail?: string; hint?: string };
        throw new DatabaseError(
          `Could not drop the snapshot's objects in "${context.database}": ${errorMessage(error)}${detail ? ` (${detail})` : ''}`,
          {
            cause: error,
            hint: hint ?? 'Nothing was changed. Import with --reset-mode drop-database instead.',
          },
        );
      }
    }),
};

/**
 * Loads into the database as it is, for a database you just created or one whose schema does not
 * overlap the snapshot's. Nothing is dropped; an object that already exists stops the import and
 * the transaction leaves the database unchanged.
 */
export const noReset: ResetMode = {
  name: 'none',
  whenToUse: 'load into the existing database without dropping anything (fails if a snapshot table exists)',
  run: (context) => inTargetTransaction(context, async () => {}),
};

async function inTargetTransaction(
  context: ResetContext,
  prepare: (client: pg.Client) => Promise<void>,
): Promise<TableImportSummary[]> {
  if (!(await databaseExists(context.admin, context.database))) {
    throw new DatabaseError(`Database "${context.database}" does not exist.`, {
      hint: 'Create it first, or import with --reset-mode drop-database, which creates it.',
    });
  }
  const client = await connectPg(context.targetUrl, { applicationName: 'devsnap-import' });
  try {
    await client.query('BEGIN');
    await prepare(client);
    const summaries = await context.load(client, context.targetUrl);
    await client.query('COMMIT');
    return summaries;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}
