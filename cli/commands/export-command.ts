import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../core/config/config-loader.js';
import type { ExportResult } from '../../core/export/export-snapshot.js';
import { type CliIo, parseJobs, resolveDatabaseUrl, resolveStore, terminalReporter } from '../cli-context.js';
import { formatUnits } from '../format-units.js';
import { emit } from '../output.js';

export interface ExportCommandOptions {
  databaseUrl?: string;
  store?: string;
  config?: string;
  jobs?: string;
  signingKey?: string;
  json?: boolean;
}

export async function runExport(options: ExportCommandOptions, io: CliIo): Promise<ExportResult> {
  const store = await resolveStore(options.store, io.env);
  const databaseUrl = resolveDatabaseUrl(options.databaseUrl, io.env);
  const { config } = await loadConfig(options.config);
  const { exportSnapshot } = await import('../../core/export/export-snapshot.js');
  return exportSnapshot({
    databaseUrl,
    store,
    config,
    cleanup: io.cleanup,
    reporter: options.json ? undefined : await terminalReporter(io),
    // anonymise.secret: { env } reads the shell's environment.
    env: io.env,
    jobs: options.jobs === undefined ? undefined : parseJobs(options.jobs),
    signer: options.signingKey
      ? await (await import('../../core/trust/resolve-signer.js')).resolveSigner(options.signingKey)
      : undefined,
  });
}

export function registerExport(program: Command, io: CliIo): void {
  program
    .command('export')
    .description('Read the source database inside one read-only snapshot and write a snapshot to the store')
    .option('--database-url <url>', 'source database (default: $DEVSNAP_DATABASE_URL); only ever read')
    .option(
      '--store <location>',
      'snapshot store: a directory or s3://bucket/prefix (default: $DEVSNAP_STORE)',
    )
    .option(
      '--config <file>',
      `strategies, foreign-key policies and anonymisation rules (default: ./${DEFAULT_CONFIG_FILE} when present)`,
    )
    .option(
      '--jobs <n>',
      'connections reading at once, all in one snapshot; tables over 1,000,000 selected rows are read in key ranges (default 1: one connection on production)',
    )
    .option(
      '--signing-key <key>',
      'sign the snapshot: a PEM private key file (Ed25519 or P-256) or an AWS KMS key (arn:aws:kms:…, alias/…)',
    )
    .option('--json', 'print one JSON result on stdout instead of progress')
    .addHelpText(
      'after',
      '\nThe snapshot is published only when complete: data files, then manifest.json, then latest.json.\n' +
        'Example:\n  devsnap export --database-url postgres://readonly@prod-replica/app --store ./snapshots',
    )
    .action(async (options: ExportCommandOptions) => {
      const result = await runExport(options, io);
      emit(io, options.json, { command: 'export', ...result }, () =>
        [
          `Snapshot ${result.snapshotId}: ${result.tables.length} tables, ${formatUnits.count(result.totalRows)} rows, ${formatUnits.bytes(result.totalBytes)} in ${formatUnits.duration(result.durationMs)}.`,
          `Import it with: devsnap import ${result.snapshotId} --store ${options.store ?? '$DEVSNAP_STORE'} --database-url postgres://localhost/app_dev`,
        ].join('\n'),
      );
    });
}
