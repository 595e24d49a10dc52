import type { Command } from 'commander';
import { ConfirmationError, UsageError } from '../../core/errors.js';
import type { PruneResult } from '../../core/prune.js';
import { type CliIo, resolveStore } from '../cli-context.js';
import { emit } from '../output.js';

export interface PruneCommandOptions {
  store?: string;
  databaseUrl?: string;
  keep?: string;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

export async function runPrune(options: PruneCommandOptions, io: CliIo): Promise<PruneResult> {
  const storeLocation = options.store ?? io.env.DEVSNAP_STORE;
  const databaseUrl = options.databaseUrl ?? io.env.DEVSNAP_DATABASE_URL;
  if (!storeLocation && !databaseUrl) {
    throw new UsageError('Nothing to prune: give a store, a database server, or both.', {
      hint: 'Pass --store DIR|s3://… (snapshot folders) and/or --database-url URL (work databases of imports).',
    });
  }
  const keep = options.keep === undefined ? undefined : Number(options.keep);
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1)) {
    throw new UsageError(
      `--keep must be a whole number of snapshots ≥ 1 (got ${JSON.stringify(options.keep)}).`,
    );
  }
  if (keep !== undefined && !storeLocation) {
    throw new UsageError('--keep needs --store: it keeps the newest snapshots of a store.');
  }
  const store = storeLocation ? await resolveStore(storeLocation, io.env) : undefined;
  const { pruneLeftovers } = await import('../../core/prune.js');
  const base = { store, databaseUrl, keep };
  if (keep !== undefined && !options.dryRun && !options.yes) {
    // Deleting complete snapshots is the one destructive part: show what goes, then ask.
    const plan = await pruneLeftovers({ ...base, dryRun: true });
    if (plan.snapshots.length > 0) {
      const question = `This deletes ${plan.snapshots.length} snapshot(s) from ${store?.location}: ${plan.snapshots.join(', ')}.`;
      if (!io.interactive) {
        throw new ConfirmationError(`${question} No terminal to confirm on.`, {
          hint: 'Pass --yes to confirm in scripts, or --dry-run to only list them.',
        });
      }
      if (!/^y(es)?$/i.test((await io.ask(`${question}\nContinue? [y/N] `)).trim())) {
        throw new ConfirmationError('Prune cancelled; nothing was deleted.');
      }
    }
  }
  return pruneLeftovers({ ...base, dryRun: options.dryRun ?? false });
}

export function registerPrune(program: Command, io: CliIo): void {
  program
    .command('prune')
    .description(
      'Remove what interrupted runs left (incomplete snapshot folders, work databases) and, with --keep, old snapshots',
    )
    .option('--store <location>', 'directory or s3://bucket/prefix (default: $DEVSNAP_STORE)')
    .option(
      '--database-url <url>',
      'a database on the server whose import work databases to remove (default: $DEVSNAP_DATABASE_URL)',
    )
    .option('--keep <n>', 'also delete complete snapshots beyond the newest n (never the one latest names)')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('-y, --yes', 'delete old snapshots (--keep) without asking')
    .option('--json', 'print one JSON result on stdout')
    .addHelpText(
      'after',
      '\nIncomplete snapshot folders younger than 24 hours may belong to an export still running and stay;\n' +
        'work databases stay while an import is running on the server.\n' +
        'Example:\n  devsnap prune --store s3://acme-snapshots/app --keep 7 --dry-run',
    )
    .action(async (options: PruneCommandOptions) => {
      const result = await runPrune(options, io);
      const verb = options.dryRun ? 'Would remove' : 'Removed';
      const storeGiven = Boolean(options.store ?? io.env.DEVSNAP_STORE);
      const databaseGiven = Boolean(options.databaseUrl ?? io.env.DEVSNAP_DATABASE_URL);
      emit(io, options.json, { command: 'prune', dryRun: options.dryRun ?? false, ...result }, () =>
        [
          ...(storeGiven
            ? [
                result.snapshots.length > 0
                  ? `${verb} ${result.snapshots.length} snapshot folder(s): ${result.snapshots.join(', ')}.`
                  : 'No snapshot folders to remove.',
                ...(result.latest ? [`Kept ${result.kept.length}; latest is ${result.latest}.`] : []),
              ]
            : []),
          ...(databaseGiven
            ? [
                result.databasesSkipped
                  ? `Databases: ${result.databasesSkipped}.`
                  : result.databases.length > 0
                    ? `${verb} ${result.databases.length} work database(s): ${result.databases.join(', ')}.`
                    : 'No work databases to remove.',
              ]
            : []),
        ].join('\n'),
      );
    });
}
