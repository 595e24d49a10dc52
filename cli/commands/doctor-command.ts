import type { Command } from 'commander';
import type { DoctorCheck } from '../../core/doctor.js';
import { defaultCacheDirectory } from '../../core/pull/cache-directory.js';
import { type CliIo, resolveStore } from '../cli-context.js';
import { emit } from '../output.js';

const MARK: Record<DoctorCheck['status'], string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

export function registerDoctor(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description('Check Node, the store and its credentials, the database and free disk before pulling')
    .option('--store <location>', 'directory or s3://bucket/prefix (default: $DEVSNAP_STORE)')
    .option('--database-url <url>', 'the database you import into (default: $DEVSNAP_DATABASE_URL)')
    .option(
      '--source-url <url>',
      'the database devsnap export reads: checks that its role can only read, and prints the GRANT script for one that can (default: $DEVSNAP_SOURCE_URL)',
    )
    .option(
      '--cache-dir <dir>',
      'where snapshots are cached (default: $DEVSNAP_CACHE_DIR or ~/.cache/devsnap)',
    )
    .option('--json', 'print the checks as JSON')
    .action(
      async (options: {
        store?: string;
        databaseUrl?: string;
        sourceUrl?: string;
        cacheDir?: string;
        json?: boolean;
      }) => {
        const storeLocation = options.store ?? io.env.DEVSNAP_STORE;
        const { runDoctor } = await import('../../core/doctor.js');
        const checks = await runDoctor({
          store: storeLocation ? () => resolveStore(storeLocation, io.env) : undefined,
          databaseUrl: options.databaseUrl ?? io.env.DEVSNAP_DATABASE_URL,
          sourceUrl: options.sourceUrl ?? io.env.DEVSNAP_SOURCE_URL,
          cacheDirectory: options.cacheDir ?? defaultCacheDirectory(io.env),
        });
        const failed = checks.filter((check) => check.status === 'fail');
        emit(io, options.json, { command: 'doctor', healthy: failed.length === 0, checks }, () =>
          checks
            .map(
              (check) =>
                `${MARK[check.status]} ${check.name}: ${check.detail}${check.status !== 'ok' && check.fix ? `\n    → ${check.fix}` : ''}`,
            )
            .join('\n'),
        );
        // Failed checks are reported above; the exit code tells scripts.
        if (failed.length > 0) io.setExitCode?.(1);
      },
    );
}
