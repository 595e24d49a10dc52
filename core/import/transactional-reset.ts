import type pg from 'pg';
import { DatabaseError, errorMessage } from '../errors.js';
import { connectPg } from '../source/pg-connection.js';
import {
  type DependentObject,
  describeObject,
  probeDropImpact,
  recreateDependents,
} from './dependent-objects.js';
import {
  describeHolder,
  END_SESSIONS_OPTION,
  endSessions,
  isLockTimeout,
  lockHolders,
  lockWaitError,
} from './lock-wait.js';
import { afterEnding, backendPid, databaseExists } from './pg-admin.js';
import type { ResetContext, ResetMode, ResetResult } from './reset-mode.js';
import { whenToUseResetMode } from './reset-mode-choices.js';
import { runDropScript, runSchemaScript } from './schema-script-runner.js';

/** The option that lets drop-tables drop the user's objects it cannot recreate. */
export const DROP_DEPENDENTS_OPTION = '--drop-dependents';

/**
 * Keeps the database and everything in it that the snapshot does not contain (other schemas,
 * roles' grants on the database, extensions, the user's own tables, views, foreign keys, triggers,
 * policies and rules), dropping and recreating only the snapshot's own tables, sequences and types.
 * Objects of the user's that lean on snapshot tables are found before anything changes and
 * recreated after the load; one that no longer fits the new tables stops the import (or is
 * dropped, with --drop-dependents). All in one transaction: a failure rolls back to the old tables.
 */
export const dropTablesReset: ResetMode = {
  name: 'drop-tables',
  whenToUse: whenToUseResetMode('drop-tables'),
  run: (context) =>
    inTargetTransaction(context, async (client) => {
      const drop = () => dropSnapshotObjects(client, context);
      const { dependents } = await probeDropImpact(client, {
        drop,
        rebuild: async () => {
          await runSchemaScript(client, context.scripts.preData);
          await runSchemaScript(client, context.scripts.postData);
        },
      });
      const unrecreatable = dependents.filter((object) => object.recreate === null);
      if (unrecreatable.length > 0 && !context.dropDependents) {
        throw dependentsRefusal(
          context.database,
          unrecreatable.map((object) => ({ object, reason: 'cannot be recreated' })),
        );
      }
      const kept = dependents.filter((object) => object.recreate !== null);
      await context.confirm(
        `This drops and recreates the snapshot's tables in database "${context.database}"; their current rows will be lost.` +
          (kept.length > 0
            ? ` ${kept.length} object${kept.length === 1 ? '' : 's'} of yours that depend on them will be recreated after the load: ${kept.map(describeObject).join(', ')}.`
            : ''),
      );
      context.reporter.report({ type: 'phase', phase: 'drop', detail: 'snapshot tables' });
      await drop();
      return async () => restoreDependents(client, context, dependents);
    }),
};

async function dropSnapshotObjects(client: pg.Client, context: ResetContext): Promise<void> {
  try {
    await runDropScript(client, context.scripts.drop);
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
}

/** After the load: puts the user's objects back, or refuses (rolling everything back). */
async function restoreDependents(
  client: pg.Client,
  context: ResetContext,
  dependents: readonly DependentObject[],
): Promise<ResetResult['dependents']> {
  if (dependents.length === 0) return { recreated: [], dropped: [] };
  context.reporter.report({
    type: 'phase',
    phase: 'recreate',
    detail: `${dependents.length} object${dependents.length === 1 ? '' : 's'} of yours`,
  });
  const { recreated, failed } = await recreateDependents(client, dependents);
  if (failed.length > 0 && !context.dropDependents) throw dependentsRefusal(context.database, failed);
  for (const { object, reason } of failed) {
    context.reporter.report({
      type: 'notice',
      message: `Dropped ${describeObject(object)} (${DROP_DEPENDENTS_OPTION}): ${reason}.`,
    });
  }
  return {
    recreated: recreated.map(describeObject),
    dropped: failed.map(({ object }) => describeObject(object)),
  };
}

function dependentsRefusal(
  database: string,
  objects: readonly { readonly object: DependentObject; readonly reason: string }[],
): DatabaseError {
  const count = `${objects.length} object${objects.length === 1 ? '' : 's'}`;
  return new DatabaseError(
    `Not importing into "${database}": drop-tables would drop ${count} of yours that ${objects.length === 1 ? 'depends' : 'depend'} on the snapshot's tables and cannot be recreated on the new ones; nothing was changed.\n  ${objects
      .map(({ object, reason }) => `${describeObject(object)}: ${reason}`)
      .join('\n  ')}`,
    {
      hint: `Change or drop ${objects.length === 1 ? 'it' : 'them'} yourself, pass ${DROP_DEPENDENTS_OPTION} to let the import drop ${objects.length === 1 ? 'it' : 'them'}, or import with --reset-mode drop-database.`,
    },
  );
}

/**
 * Loads into the database as it is, for a database you just created or one whose schema does not
 * overlap the snapshot's. Nothing is dropped; an object that already exists stops the import and
 * the transaction leaves the database unchanged.
 */
export const noReset: ResetMode = {
  name: 'none',
  whenToUse: whenToUseResetMode('none'),
  run: (context) => inTargetTransaction(context, async () => undefined),
};

/** Prepares the target inside the transaction; may return a step to run after the load. */
type Prepare = (client: pg.Client) => Promise<(() => Promise<ResetResult['dependents']>) | undefined>;

async function inTargetTransaction(context: ResetContext, prepare: Prepare): Promise<ResetResult> {
  if (!(await databaseExists(context.admin, context.database))) {
    throw new DatabaseError(`Database "${context.database}" does not exist.`, {
      hint: 'Create it first, or import with --reset-mode drop-database, which creates it.',
    });
  }
  const { lockWait } = context;
  let confirmed = false;
  // Asked once: an attempt that waited too long for a lock is retried without asking again.
  const once: ResetContext = {
    ...context,
    async confirm(question) {
      if (!confirmed) await context.confirm(question);
      confirmed = true;
    },
  };
  for (let attempt = 1; ; attempt++) {
    const client = await connectPg(context.targetUrl, { applicationName: 'devsnap-import' });
    try {
      return await loadInTransaction(client, once, prepare);
    } catch (error) {
      if (!isLockTimeout(error)) throw error;
      const holders = await lockHolders(client, context.tables);
      if (attempt >= lockWait.attempts && !context.endSessions) {
        throw lockWaitError(context.database, holders, lockWait);
      }
      if (context.endSessions && holders.length > 0) {
        await endSessions(client, holders);
        for (const holder of holders) {
          context.reporter.report({
            type: 'notice',
            message: `Ended ${describeHolder(holder)} (${END_SESSIONS_OPTION}).`,
          });
        }
      } else {
        context.reporter.report({
          type: 'notice',
          message: `Waiting for locks on the snapshot's tables: ${holders.map(describeHolder).join('; ') || 'another session holds them'} (attempt ${attempt + 1} of ${lockWait.attempts}).`,
        });
      }
      if (attempt >= lockWait.attempts + 2) throw lockWaitError(context.database, holders, lockWait);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** One attempt: every change in one transaction, each lock waited for at most lock_timeout. */
async function loadInTransaction(
  client: pg.Client,
  context: ResetContext,
  prepare: Prepare,
): Promise<ResetResult> {
  const pid = await backendPid(client);
  // Interrupted: ending this session rolls the transaction back; nothing else was created.
  const forget = context.cleanup.add(() =>
    afterEnding(context.maintenanceUrl, [pid], async () => `rolled back; "${context.database}" is unchanged`),
  );
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(context.lockWait.timeoutMs))}`);
    const finish = await prepare(client);
    const tables = await context.load(client, context.targetUrl);
    const dependents = await finish?.();
    await client.query('COMMIT');
    return { tables, ...(dependents ? { dependents } : {}) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    forget();
  }
}
