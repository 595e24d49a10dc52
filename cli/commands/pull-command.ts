import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../core/config/config-loader.js';
import { defaultCacheDirectory } from '../../core/pull/cache-directory.js';
import type { PullResult } from '../../core/pull/pull-snapshot.js';
import { type CliIo, resolveStore, terminalReporter } from '../cli-context.js';
import { formatUnits } from '../format-units.js';
import { emit, sealLine } from '../output.js';

export interface PullCommandOptions {
  store?: string;
  config?: string;
  cacheDir?: string;
  json?: boolean;
}

export async function runPull(
  snapshot: string | undefined,
  options: PullCommandOptions,
  io: CliIo,
): Promise<PullResult> {
  // `devsnap pull https://…`: the link names both the store and the snapshot.
  const link = snapshot !== undefined && /^https?:\/\//i.test(snapshot);
  const store = await resolveStore(link ? snapshot : options.store, io.env);
  const { config } = await loadConfig(options.config);
  const { pullSnapshot } = await import('../../core/pull/pull-snapshot.js');
  const { resolveTrust } = await import('../../core/trust/trusted-keys.js');
  return pullSnapshot({
    store,
    trust: await resolveTrust({ configKeys: config.trust?.keys, env: io.env }),
    snapshot: link || snapshot === undefined ? 'latest' : snapshot,
    cacheDirectory: options.cacheDir ?? defaultCacheDirectory(io.env),
    reporter: options.json ? undefined : await terminalReporter(io),
  });
}

export function registerPull(program: Command, io: CliIo): void {
  program
    .command('pull')
    .description('Download a snapshot into the local cache, verified file by file (import does this itself)')
    .argument(
      '[snapshot]',
      'snapshot id (or a unique prefix), "latest", or a share link from `devsnap share`',
      'latest',
    )
    .option('--store <location>', 'directory, s3://bucket/prefix or share link (default: $DEVSNAP_STORE)')
    .option(
      '--cache-dir <dir>',
      'where snapshots are cached (default: $DEVSNAP_CACHE_DIR or ~/.cache/devsnap)',
    )
    .option(
      '--config <file>',
      `config whose trust.keys the snapshot must be signed by (default: ./${DEFAULT_CONFIG_FILE} when present)`,
    )
    .option('--json', 'print one JSON result on stdout instead of progress')
    .addHelpText(
      'after',
      '\nA second pull of the same snapshot downloads nothing; an interrupted pull resumes; a cached file that\n' +
        'was truncated or changed is fetched again.',
    )
    .action(async (snapshot: string, options: PullCommandOptions) => {
      const result = await runPull(snapshot, options, io);
      const { cache, ...summary } = result;
      emit(io, options.json, { command: 'pull', ...summary, cacheDirectory: cache.location }, () =>
        [
          `Snapshot ${result.snapshotId}: ${result.files} files, ${formatUnits.bytes(result.bytes)} in ${cache.location}`,
          result.downloadedBytes === 0
            ? 'Everything was already cached and intact.'
            : `Downloaded ${formatUnits.bytes(result.downloadedBytes)} in ${formatUnits.duration(result.durationMs)}.`,
          sealLine(result.seal),
        ].join('\n'),
      );
    });
}
