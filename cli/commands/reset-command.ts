import type { Command } from 'commander';
import { ConfirmationError } from '../../core/errors.js';
import type { ResetResult } from '../../core/import/reset-database.js';
import { type CliIo, resolveDatabaseUrl, terminalReporter } from '../cli-context.js';
import { formatUnits } from '../format-units.js';
import { emit } from '../output.js';

export interface ResetCommandOptions {
  databaseUrl?: string;
  yes?: boolean;
  allowRemote?: boolean;
  json?: boolean;
}

export async function runReset(options: ResetCommandOptions, io: CliIo): Promise<ResetResult> {
  const databaseUrl = resolveDatabaseUrl(options.databaseUrl, io.env);
  const { resetDatabase } = await import('../../core/import/reset-database.js');
  return resetDatabase({
    databaseUrl,
    allowRemote: options.allowRemote ?? false,
    reporter: options.json ? undefined : await terminalReporter(io),
    cleanup: io.cleanup,
    confirm: async (question) => {
      if (options.yes) return true;
      if (!io.interactive) {
        throw new ConfirmationError(`${question} No terminal to confirm on.`, {
          hint: 'Pass --yes to confirm in scripts.',
        });
      }
      return /^y(es)?$/i.test((await io.ask(`${question}\nContinue? [y/N] `)).trim());
    },
  });
}

export function registerReset(program: Command, io: CliIo): void {
  program
    .command('reset')
    .description(
      'Put the development database back to the snapshot last imported, in a moment (no download, no COPY)',
    )
    .option('--database-url <url>', 'the database to reset (default: $DEVSNAP_DATABASE_URL)')
    .option('-y, --yes', 'replace the database without asking (for scripts)')
    .option('--allow-remote', 'allow a database that is not on this machine (refused by default)')
    .option('--json', 'print one JSON result on stdout')
    .addHelpText(
      'after',
      '\nAn import (reset mode drop-database) keeps a copy of what it imported as <db>__devsnap_template,\n' +
        'unless --no-template; reset copies it beside your database with CREATE DATABASE … TEMPLATE and\n' +
        'swaps it in, ending other sessions on the old one as an import does.\n' +
        'Example:\n  devsnap reset --database-url postgres://localhost/app_dev --yes',
    )
    .action(async (options: ResetCommandOptions) => {
      const result = await runReset(options, io);
      emit(
        io,
        options.json,
        { command: 'reset', ...result },
        () =>
          `Reset "${result.database}" from ${result.template} in ${formatUnits.duration(result.durationMs)}.`,
      );
    });
}
