import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { ShareResult } from '../../core/share/share-snapshot.js';
import { type CliIo, resolveStore } from '../cli-context.js';
import { emit } from '../output.js';

export async function runShare(
  snapshot: string,
  options: { store?: string; expires: string },
  io: CliIo,
): Promise<ShareResult> {
  const store = await resolveStore(options.store, io.env);
  const { S3SnapshotStore } = await import('../../core/store/s3-snapshot-store.js');
  if (!(store instanceof S3SnapshotStore)) {
    throw new UsageError('Only snapshots in S3 can be shared.', {
      hint: 'Pass --store s3://bucket/prefix; a local directory can simply be copied.',
    });
  }
  const { parseDuration, shareSnapshot } = await import('../../core/share/share-snapshot.js');
  return shareSnapshot(store, snapshot, parseDuration(options.expires));
}

export function registerShare(program: Command, io: CliIo): void {
  program
    .command('share')
    .description('Give a laptop without AWS credentials a time-limited link to pull a snapshot')
    .argument('[snapshot]', 'snapshot id (or a unique prefix) or "latest"', 'latest')
    .option('--store <location>', 's3://bucket/prefix (default: $DEVSNAP_STORE)')
    .option('--expires <duration>', 'how long the link works: 30m, 24h, 7d (at most 7 days)', '24h')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nThe link is a presigned URL to a list of presigned URLs (the manifest and every file); on the other\n' +
        'laptop: devsnap pull <link> (or devsnap import --store <link> …). Anyone with the link can download\n' +
        'the snapshot until it expires.',
    )
    .action(async (snapshot: string, options: { store?: string; expires: string; json?: boolean }) => {
      const result = await runShare(snapshot, options, io);
      emit(io, options.json, { command: 'share', ...result }, () =>
        [
          `Snapshot ${result.snapshotId} is shared until ${result.expiresAt} (${result.files} files). On the other machine:`,
          `  devsnap pull '${result.url}'`,
        ].join('\n'),
      );
    });
}
