import { type Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../core/config/config-loader.js';
import { ConfirmationError } from '../../core/errors.js';
import type { ImportResult, ResetModeName } from '../../core/import/import-snapshot.js';
import { RESET_MODE_CHOICES } from '../../core/import/reset-mode-choices.js';
import { defaultCacheDirectory } from '../../core/pull/cache-directory.js';
import { type CliIo, parseJobs, resolveDatabaseUrl, resolveStore, terminalReporter } from '../cli-context.js';
import { formatUnits } from '../format-units.js';
import { emit, sealLine } from '../output.js';

export interface ImportCommandOptions {
  databaseUrl?: string;
  store?: string;
  resetMode?: string;
  yes?: boolean;
  keepPrevious?: boolean;
  template?: boolean;
  dropDependents?: boolean;
  endSessions?: boolean;
  allowRemote?: boolean;
  schemaCommand?: string;
  allowMissingColumns?: boolean;
  allowUncheckedFunctions?: boolean;
  config?: string;
  cacheDir?: string;
  jobs?: string;
  json?: boolean;
}

export async function runImport(
  snapshot: string | undefined,
  options: ImportCommandOptions,
  io: CliIo,
): Promise<ImportResult> {
  const store = await resolveStore(options.store, io.env);
  const databaseUrl = resolveDatabaseUrl(options.databaseUrl, io.env);
  const { config } = await loadConfig(options.config);
  const { importSnapshot } = await import('../../core/import/import-snapshot.js');
  const { resolveTrust } = await import('../../core/trust/trusted-keys.js');
  return importSnapshot({
    config,
    trust: await resolveTrust({ configKeys: config.trust?.keys, env: io.env }),
    databaseUrl,
    store,
    cleanup: io.cleanup,
    snapshot: snapshot ?? 'latest',
    resetMode: (options.resetMode ?? 'drop-database') as ResetModeName,
    keepPrevious: options.keepPrevious ?? false,
    keepTemplate: options.template ?? true,
    dropDependents: options.dropDependents ?? false,
    endSessions: options.endSessions ?? false,
    allowRemote: options.allowRemote ?? false,
    cacheDirectory: options.cacheDir ?? defaultCacheDirectory(io.env),
    jobs: options.jobs === undefined ? undefined : parseJobs(options.jobs),
    schemaCommand: options.schemaCommand,
    allowMissingColumns: options.allowMissingColumns ?? false,
    allowUncheckedFunctions: options.allowUncheckedFunctions ?? false,
    reporter: options.json ? undefined : await terminalReporter(io),
    confirm: async (question) => {
      if (options.yes) return true;
      if (!io.interactive) {
        throw new ConfirmationError(`${question} No terminal to confirm on.`, {
          hint: 'Pass --yes to confirm in scripts.',
        });
      }
      const answer = await io.ask(`${question}\nContinue? [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    },
  });
}

export function registerImport(program: Command, io: CliIo): void {
  const modes = RESET_MODE_CHOICES;
  program
    .command('import')
    .description('Verify a snapshot and load it into a local database')
    .argument('[snapshot]', 'snapshot id (or a unique prefix) or "latest"', 'latest')
    .option('--database-url <url>', 'target database (default: $DEVSNAP_DATABASE_URL)')
    .option(
      '--store <location>',
      'snapshot store: a directory or s3://bucket/prefix (default: $DEVSNAP_STORE)',
    )
    .addOption(
      new Option('--reset-mode <mode>', 'how the target is prepared (see below)')
        .choices(modes.map((mode) => mode.name))
        .default('drop-database'),
    )
    .option('-y, --yes', 'confirm destructive reset modes without asking (for scripts)')
    .option('--keep-previous', 'drop-database: keep the replaced database as <name>__devsnap_previous')
    .option(
      '--no-template',
      'drop-database: do not keep <name>__devsnap_template, the copy `devsnap reset` restores (it takes as much disk again)',
    )
    .option(
      '--drop-dependents',
      'drop-tables: drop your objects (views, foreign keys, …) that depend on snapshot tables and no longer fit them, instead of refusing',
    )
    .option(
      '--end-sessions',
      'drop-tables, none: end other sessions that hold locks on the snapshot tables instead of giving up after waiting',
    )
    .option(
      '--cache-dir <dir>',
      'where a snapshot from s3:// is pulled to (default: $DEVSNAP_CACHE_DIR or ~/.cache/devsnap)',
    )
    .option('--jobs <n>', 'tables copied at once with drop-database (default: cores, at most 4)')
    .option('--allow-remote', 'allow a target database that is not on this machine (refused by default)')
    .option(
      '--schema-command <command>',
      'build the schema with your own command (e.g. "psql -f schema.sql" or your migrations; it gets DATABASE_URL and PG* variables), then load the data by column name',
    )
    .option('--allow-missing-columns', 'with --schema-command: skip columns that exist on one side only')
    .option(
      '--allow-unchecked-functions',
      'create functions devsnap cannot check (EXECUTE of built SQL, SECURITY DEFINER) from an unsigned snapshot: only one you exported yourself',
    )
    .option(
      '--config <file>',
      `config whose factory strategies generate rows at import (default: ./${DEFAULT_CONFIG_FILE} when present)`,
    )
    .option('--json', 'print one JSON result on stdout instead of progress')
    .addHelpText(
      'after',
      `\nReset modes:\n${modes.map((mode) => `  ${mode.name.padEnd(14)} ${mode.whenToUse}`).join('\n')}\n\n` +
        'Every file is checked against the manifest (size and sha256) before the database is touched,\n' +
        'and a failed import leaves the database as it was. The schema scripts run schema statements only\n' +
        '(no COPY, DO, roles, grants or server files); import as a role that owns its databases and is not a\n' +
        'superuser (README: What an import runs).\n' +
        'Example:\n  devsnap import latest --store ./snapshots --database-url postgres://localhost/app_dev --yes',
    )
    .action(async (snapshot: string, options: ImportCommandOptions) => {
      const result = await runImport(snapshot, options, io);
      // After the import, where it is read: the snapshot may hold personal data.
      if (result.relaxedAnonymisation) io.stderr.write(`warning: ${result.relaxedAnonymisation}\n`);
      emit(io, options.json, { command: 'import', ...result }, () =>
        [
          `Imported snapshot ${result.snapshotId} into "${result.database}" (${result.resetMode}): ${result.tables.length} tables, ${formatUnits.count(result.totalRows)} rows in ${formatUnits.duration(result.durationMs)}.`,
          sealLine(result.seal),
          ...dependentLines(result),
        ].join('\n'),
      );
    });
}

/** drop-tables: which of the user's objects on snapshot tables were put back or dropped. */
function dependentLines(result: ImportResult): string[] {
  const { recreated = [], dropped = [] } = result.dependents ?? {};
  return [
    ...(recreated.length > 0
      ? [`Recreated ${recreated.length} object(s) of yours: ${recreated.join(', ')}.`]
      : []),
    ...(dropped.length > 0
      ? [`Dropped ${dropped.length} object(s) of yours (--drop-dependents): ${dropped.join(', ')}.`]
      : []),
  ];
}
