import { type CleanupRegistry, noCleanup } from '../cleanup-registry.js';
import { ConfirmationError, DatabaseError, UsageError } from '../errors.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { quoteIdent } from '../schema/schema-model.js';
import {
  connectPg,
  databaseName,
  isLocalDatabase,
  redactUrl,
  withDatabase,
} from '../source/pg-connection.js';
import { replaceDatabase, templateDatabaseName } from './drop-database-reset.js';
import { acquireImportLock, databaseExists, defaultLockWait } from './pg-admin.js';
import { refuseProtectedName } from './target-checks.js';

export interface ResetOptions {
  /** The development database to restore. */
  readonly databaseUrl: string;
  readonly allowRemote?: boolean;
  readonly reporter?: ProgressReporter;
  readonly cleanup?: CleanupRegistry;
  /** Asked before the database is replaced; without it the reset is refused. */
  readonly confirm?: (question: string) => Promise<boolean>;
}

export interface ResetResult {
  readonly database: string;
  readonly template: string;
  readonly durationMs: number;
}

/**
 * Puts the development database back to the snapshot it was imported from, in about the time the
 * server takes to copy its files: `CREATE DATABASE … TEMPLATE <db>__devsnap_template` beside it,
 * then the same swap as an import (other sessions are ended with a notice). No download, no COPY.
 */
export async function resetDatabase(options: ResetOptions): Promise<ResetResult> {
  const started = performance.now();
  const reporter = options.reporter ?? silentReporter;
  const database = databaseName(options.databaseUrl);
  refuseProtectedName(database);
  if (!options.allowRemote && !isLocalDatabase(options.databaseUrl)) {
    throw new UsageError(
      `Refusing to reset ${redactUrl(options.databaseUrl)}: it is not on this machine, and a reset replaces data.`,
      { hint: 'Pass --allow-remote if this really is a development database.' },
    );
  }
  const template = templateDatabaseName(database);
  const maintenanceUrl = withDatabase(options.databaseUrl, 'postgres');
  const admin = await connectPg(maintenanceUrl, { applicationName: 'devsnap-reset' });
  try {
    if (!(await databaseExists(admin, template))) {
      throw new DatabaseError(`There is no template to reset "${database}" from (${template}).`, {
        hint: `Import a snapshot first (devsnap import --database-url ${redactUrl(options.databaseUrl)} …); it keeps the template unless --no-template.`,
      });
    }
    await acquireImportLock(admin, `resetting "${database}"`, defaultLockWait());
    reporter.report({ type: 'phase', phase: 'reset', detail: `${database} from ${template}` });
    await replaceDatabase(
      {
        admin,
        database,
        reporter,
        maintenanceUrl,
        cleanup: options.cleanup ?? noCleanup,
        keepPrevious: false,
        async confirm(question) {
          if (!options.confirm) {
            throw new ConfirmationError(`${question} Refusing without confirmation.`, {
              hint: 'Run it on a terminal to be asked, or pass --yes.',
            });
          }
          if (!(await options.confirm(question)))
            throw new ConfirmationError('Reset cancelled; nothing was changed.');
        },
      },
      {
        question: `This puts database "${database}" back to the snapshot it was imported from; every change since will be lost.`,
        create: (building) => `CREATE DATABASE ${quoteIdent(building)} TEMPLATE ${quoteIdent(template)}`,
      },
    );
    return { database, template, durationMs: Math.round(performance.now() - started) };
  } finally {
    await admin.end().catch(() => {});
  }
}
