import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../core/config/config-loader.js';
import { errorMessage, UsageError } from '../../core/errors.js';
import { type CliIo, resolveDatabaseUrl } from '../cli-context.js';
import { emit } from '../output.js';

export interface InitCommandOptions {
  databaseUrl?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

export interface InitResult {
  readonly path: string;
  readonly tables: number;
  /** Application frameworks recognised (Django, Rails), whose presets the config carries. */
  readonly frameworks: readonly { readonly framework: string; readonly evidence: string }[];
  /** `schema.table.column` of every column given a rule because it looks personal. */
  readonly flagged: readonly { readonly column: string; readonly reasons: readonly string[] }[];
  /** Relations the database does not declare that were detected (Django, Rails), checked like foreign keys. */
  readonly relations: readonly string[];
}

export async function runInit(
  options: InitCommandOptions,
  io: CliIo,
  cwd = process.cwd(),
): Promise<InitResult> {
  const databaseUrl = resolveDatabaseUrl(options.databaseUrl, io.env);
  const path = resolve(cwd, options.out ?? DEFAULT_CONFIG_FILE);
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (exists && !options.force) {
    throw new UsageError(`${path} already exists.`, {
      hint: 'Pass --force to overwrite it, or --out FILE to write somewhere else.',
    });
  }
  const { generateStarterConfig } = await import('../../core/anonymise/starter-config.js');
  const generated = await generateStarterConfig(databaseUrl);
  try {
    await writeFile(path, generated.text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const folder = dirname(path);
    throw new UsageError(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `Cannot write ${path}: the folder ${folder} does not exist.`
        : `Cannot write ${path}: ${errorMessage(error)}`,
      {
        cause: error,
        hint:
          code === 'ENOENT' || code === 'ENOTDIR'
            ? `Create it first (mkdir -p ${folder}), or pass --out with a file in an existing folder.`
            : 'Pass --out with a file in a folder you may write to.',
      },
    );
  }
  return {
    path,
    tables: generated.tables,
    frameworks: generated.frameworks,
    flagged: generated.flagged.map((column) => ({ column: column.key, reasons: column.verdict.reasons })),
    relations: generated.relations,
  };
}

export function registerInit(program: Command, io: CliIo): void {
  program
    .command('init')
    .description(
      'Write a starter devsnap.config.ts from the database: tables, and a rule for every column that looks personal',
    )
    .option(
      '--database-url <url>',
      'database to read the schema and a sample of values from (default: $DEVSNAP_DATABASE_URL)',
    )
    .option('--out <file>', `where to write the config (default: ./${DEFAULT_CONFIG_FILE})`)
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print one JSON result on stdout')
    .addHelpText(
      'after',
      '\nReads the schema and up to 200 rows per table (read-only) and flags columns that look personal by\n' +
        'name, type or value. Review the file: each rule carries a comment saying why the column was flagged.\n' +
        'Example:\n  devsnap init --database-url postgres://readonly@prod-replica/app',
    )
    .action(async (options: InitCommandOptions) => {
      const result = await runInit(options, io);
      const { redactUrl } = await import('../../core/source/pg-connection.js');
      const source = options.databaseUrl ? redactUrl(options.databaseUrl) : undefined;
      emit(io, options.json, { command: 'init', ...result }, () =>
        [
          `Wrote ${result.path}: ${result.tables} tables, ${result.flagged.length} columns that look personal, each with a suggested rule.`,
          ...(result.relations.length > 0
            ? [
                `Detected ${result.relations.length} relation${result.relations.length === 1 ? '' : 's'} the database does not declare (${result.relations.join(', ')}): checked like foreign keys, listed in the file.`,
              ]
            : []),
          ...result.frameworks.map(
            (found) =>
              `Recognised ${found.framework} (${found.evidence}): added its presets, each with a comment (see the README on signing in after an import).`,
          ),
          `Review it, set DEVSNAP_SECRET, then run: devsnap export --config ${options.out ?? DEFAULT_CONFIG_FILE}` +
            // The source just read; its password is not printed (DEVSNAP_DATABASE_URL or ~/.pgpass).
            (source ? ` --database-url ${source}` : '') +
            ' --store ./snapshots',
        ].join('\n'),
      );
    });
}
