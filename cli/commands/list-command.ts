import type { Command } from 'commander';
import { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import { type CliIo, resolveStore } from '../cli-context.js';
import { formatUnits } from '../format-units.js';
import { emit } from '../output.js';
import { formatTable } from '../text-table.js';

export function registerList(program: Command, io: CliIo): void {
  program
    .command('list')
    .description('List the snapshots in a store, oldest first')
    .option(
      '--store <location>',
      'snapshot store: a directory or s3://bucket/prefix (default: $DEVSNAP_STORE)',
    )
    .option('--json', 'print JSON')
    .action(async (options: { store?: string; json?: boolean }) => {
      const store = await resolveStore(options.store, io.env);
      // A mistyped directory is an error, not an empty store.
      if (store instanceof LocalDirectoryStore) await store.assertExists();
      const { listSnapshots } = await import('../../core/snapshot-catalog.js');
      const snapshots = await listSnapshots(store);
      emit(io, options.json, { command: 'list', store: store.location, snapshots }, () =>
        snapshots.length === 0
          ? `No snapshots in ${store.location}. Create one with: devsnap export --database-url URL --store ${store.location}`
          : formatTable(
              [
                { header: 'snapshot' },
                { header: 'created' },
                { header: 'tables', align: 'right' },
                { header: 'rows', align: 'right' },
                { header: 'size', align: 'right' },
                { header: '' },
              ],
              snapshots.map((s) => [
                s.snapshotId,
                s.createdAt ?? '-',
                String(s.tables),
                formatUnits.count(s.rows),
                formatUnits.bytes(s.bytes),
                s.problem ? `unreadable: ${s.problem}` : s.latest ? 'latest' : '',
              ]),
            ),
      );
    });
}
