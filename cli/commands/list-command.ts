import type { Command } from 'commander';
import { listSnapshots } from '../../core/snapshot-catalog.js';
import { type CliIo, formatBytes, resolveStore } from '../cli-context.js';
import { emit, renderTable } from '../output.js';

export function registerList(program: Command, io: CliIo): void {
  program
    .command('list')
    .description('List the snapshots in a store, oldest first')
    .option('--store <dir>', 'snapshot store directory (default: $DEVSNAP_STORE)')
    .option('--json', 'print JSON')
    .action(async (options: { store?: string; json?: boolean }) => {
      const store = resolveStore(options.store, io.env);
      const snapshots = await listSnapshots(store);
      emit(io, options.json, { command: 'list', store: store.location, snapshots }, () =>
        snapshots.length === 0
          ? `No snapshots in ${store.location}. Create one with: devsnap export --database-url URL --store ${store.location}`
          : renderTable(
              ['SNAPSHOT', 'CREATED', 'TABLES', 'ROWS', 'SIZE', ''],
              snapshots.map((s) => [
                s.snapshotId,
                s.createdAt ?? '-',
                s.tables,
                s.rows,
                formatBytes(s.bytes),
                s.problem ? `unreadable: ${s.problem}` : s.latest ? 'latest' : '',
              ]),
            ),
      );
    });
}
