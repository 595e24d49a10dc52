import type { Command } from 'commander';
import { type CliIo, resolveStore } from '../cli-context.js';
import { formatUnits } from '../format-units.js';
import { emit } from '../output.js';
import { formatTable } from '../text-table.js';

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('Show what a snapshot holds: tables, rows, files, sequences and objects not captured')
    .argument('[snapshot]', 'snapshot id (or a unique prefix) or "latest"', 'latest')
    .option(
      '--store <location>',
      'snapshot store: a directory or s3://bucket/prefix (default: $DEVSNAP_STORE)',
    )
    .option('--json', 'print the manifest as JSON')
    .action(async (snapshot: string, options: { store?: string; json?: boolean }) => {
      const store = await resolveStore(options.store, io.env);
      const { inspectSnapshot } = await import('../../core/snapshot-catalog.js');
      const { formatManifestAnonymisation } = await import('../anonymisation-report.js');
      const manifest = await inspectSnapshot(store, snapshot);
      if (options.json) {
        // The text report carries the warning itself; scripts get it on stderr beside the JSON.
        const { relaxationWarning } = await import('../../core/anonymise/relaxations.js');
        const relaxed = relaxationWarning(manifest);
        if (relaxed) io.stderr.write(`warning: ${relaxed}\n`);
      }
      emit(io, options.json, { command: 'inspect', manifest }, () => {
        const uncaptured = manifest.schema.uncaptured;
        return [
          `Snapshot ${manifest.snapshotId}, created ${manifest.createdAt} by devsnap ${manifest.tool.version}`,
          `Source: PostgreSQL ${manifest.source.serverVersion}; ${formatUnits.count(manifest.totals.rows)} rows, ${formatUnits.bytes(manifest.totals.bytes)}, exported in ${formatUnits.duration(manifest.timings.durationMs)}`,
          '',
          formatTable(
            [
              { header: 'table' },
              { header: 'rows', align: 'right' },
              { header: 'size', align: 'right' },
              { header: 'columns', align: 'right' },
              { header: 'strategies' },
            ],
            manifest.tables.map((t) => [
              `${t.schema}.${t.name}${t.partitions.length ? ` (+${t.partitions.length} partitions)` : ''}`,
              formatUnits.count(t.rows),
              formatUnits.bytes(t.files.reduce((sum, f) => sum + f.bytes, 0)),
              String(t.columns.length),
              t.strategies.map((s) => s.name).join(', '),
            ]),
          ),
          '',
          `Sequences: ${manifest.sequences.length} (${manifest.sequences.filter((s) => !s.ownedBy).length} free)`,
          uncaptured.length
            ? `Not captured (not recreated by import): ${uncaptured.map((o) => `${o.kind} ${o.schema ? `${o.schema}.` : ''}${o.name}`).join(', ')}`
            : 'Every schema object was captured.',
          '',
          formatManifestAnonymisation(manifest),
        ].join('\n');
      });
    });
}
