import { Command, CommanderError } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../core/config/config-loader.js';
import { DevsnapError } from '../core/errors.js';
import { knownSecrets, redactingStream } from '../core/redact-secrets.js';
import { DEVSNAP_VERSION } from '../core/version.js';
import type { CliIo } from './cli-context.js';
import { registerDoctor } from './commands/doctor-command.js';
import { registerExport } from './commands/export-command.js';
import { registerImport } from './commands/import-command.js';
import { registerInit } from './commands/init-command.js';
import { registerInspect } from './commands/inspect-command.js';
import { registerList } from './commands/list-command.js';
import { registerPlan } from './commands/plan-command.js';
import { registerPrune } from './commands/prune-command.js';
import { registerPull } from './commands/pull-command.js';
import { registerReset } from './commands/reset-command.js';
import { registerShare } from './commands/share-command.js';
import { registerTrust } from './commands/trust-command.js';

/** `json`: usage errors are left to runCli, which prints them as the one JSON document. */
export function buildProgram(io: CliIo, options: { readonly json?: boolean } = {}): Command {
  const program = new Command('devsnap')
    .description(
      'Realistic, anonymised development databases from production PostgreSQL.\n' +
        'Export a snapshot (Parquet + manifest) to a store, then import it into a local database.',
    )
    .version(DEVSNAP_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // With --json, runCli prints usage errors (and nothing else) as the one JSON document.
      writeErr: (text) => (options.json ? true : io.stderr.write(text)),
    })
    .addHelpText(
      'after',
      '\nEnvironment: DEVSNAP_DATABASE_URL and DEVSNAP_STORE stand in for --database-url and --store.\n' +
        'Exit codes: 0 ok, 1 unexpected error, 2 bad usage, 3 database, 4 store, 5 corrupt or untrusted snapshot, 6 not confirmed.',
    );
  registerExport(program, io);
  registerPlan(program, io);
  registerImport(program, io);
  registerList(program, io);
  registerPull(program, io);
  registerShare(program, io);
  registerReset(program, io);
  registerPrune(program, io);
  registerTrust(program, io);
  registerDoctor(program, io);
  registerInspect(program, io);
  registerInit(program, io);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit code; expected failures print one clear message, bugs a stack. */
export async function runCli(argv: readonly string[], rawIo: CliIo): Promise<number> {
  // Everything the CLI prints passes here: results, --json, progress, errors and stacks.
  const secrets = knownSecrets(rawIo.env, argv);
  const io: CliIo = {
    ...rawIo,
    stdout: redactingStream(rawIo.stdout, secrets),
    stderr: redactingStream(rawIo.stderr, secrets),
  };
  const json = argv.includes('--json');
  let exitCode = 0;
  try {
    await buildProgram({ ...io, setExitCode: (code) => (exitCode = code) }, { json }).parseAsync([...argv], {
      from: 'user',
    });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end through here too, with exit code 0.
      if (error.exitCode === 0) return 0;
      if (json) {
        const message = error.message.replace(/^error: /, '');
        io.stdout.write(
          `${JSON.stringify({ ok: false, error: { name: 'UsageError', message, hint: 'Run with --help for usage.', exitCode: 2 } }, null, 2)}\n`,
        );
      }
      return 2;
    }
    if (error instanceof DevsnapError) {
      const hint = error.hint === undefined ? undefined : namingConfigFile(error.hint, argv);
      if (json) {
        io.stdout.write(
          `${JSON.stringify({ ok: false, error: { name: error.name, message: error.message, hint: hint ?? null, exitCode: error.exitCode } }, null, 2)}\n`,
        );
      } else {
        io.stderr.write(`devsnap: ${error.message}\n${hint ? `  ${hint}\n` : ''}`);
      }
      return error.exitCode;
    }
    io.stderr.write(
      `devsnap: unexpected error (please report it):\n${error instanceof Error ? error.stack : String(error)}\n`,
    );
    return 1;
  }
}

/**
 * The engine's hints say where to fix a config ("… in devsnap.config.ts"); with `--config FILE` they
 * name that file instead.
 */
function namingConfigFile(hint: string, argv: readonly string[]): string {
  const index = argv.indexOf('--config');
  const file =
    argv.find((arg) => arg.startsWith('--config='))?.slice('--config='.length) ??
    (index < 0 ? undefined : argv[index + 1]);
  return file ? hint.replaceAll(`in ${DEFAULT_CONFIG_FILE}`, `in ${file}`) : hint;
}
