/**
 * `npm run demo`: the whole devsnap loop on a laptop with nothing installed. Builds a realistic
 * shop database in an embedded PostgreSQL, exports it to a local snapshot store, imports the
 * snapshot into a second database and shows what happened, table by table.
 *
 *   npm run demo                       # run, print the summary, stop the server
 *   npm run demo -- --keep-running     # …and keep the server up for psql until Ctrl-C
 *   npm run demo -- --scale 5          # ~500k rows instead of ~100k
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatUnits } from '../cli/format-units.js';
import { TerminalProgressReporter } from '../cli/terminal-progress-reporter.js';
import { formatTable } from '../cli/text-table.js';
import { loadConfig } from '../core/config/config-loader.js';
import {
  DevsnapError,
  type ExportResult,
  errorMessage,
  exportSnapshot,
  type ImportResult,
  importSnapshot,
  LocalDirectoryStore,
} from '../core/index.js';
import { directoryFiles } from '../tools/directory-files.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../tools/embedded-postgres-server.js';
import { withPgClient } from '../tools/pg-client.js';
import { compareDatabases } from './compare-databases.js';
import { buildDemoDatabase, type DemoSummary } from './demo-database.js';

const DEMO_CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'devsnap.config.ts');
const SOURCE_DATABASE = 'shop_production';
const TARGET_DATABASE = 'shop_dev';
/** Relative to where the demo runs (the repository root under `npm run demo`); gitignored. */
const STORE_DIR = resolve('.devsnap/demo-store');

interface DemoArgs {
  readonly keepRunning: boolean;
  readonly scale: number;
}

class DemoError extends DevsnapError {
  override name = 'DemoError';
}

function parseDemoArgs(argv: readonly string[]): DemoArgs | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'keep-running': { type: 'boolean', default: false },
      scale: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new DemoError(`--scale must be a positive number, got "${values.scale}"`);
  }
  return { keepRunning: values['keep-running'], scale };
}

const say = (line = '') => process.stdout.write(`${line}\n`);

async function buildSource(server: EmbeddedServer, scale: number): Promise<DemoSummary> {
  await withPgClient(server.url('postgres'), (admin) =>
    admin.query(
      `CREATE DATABASE ${admin.escapeIdentifier(SOURCE_DATABASE)} TEMPLATE template0 ENCODING 'UTF8'`,
    ),
  );
  return withPgClient(server.url(SOURCE_DATABASE), (client) => buildDemoDatabase(client, { scale }));
}

const OBJECT_KINDS = [
  'table',
  'view',
  'materialized view',
  'sequence',
  'index',
  'constraint',
  'enum',
  'domain',
];

/**
 * Checks the copy against its source. Row counts must match (the demo fails otherwise); content
 * and schema differences are shown, since they are worth seeing but not a reason to stop.
 */
async function checkCopy(server: EmbeddedServer, source: DemoSummary): Promise<void> {
  const tables = source.tables.map((table) => table.table);
  const comparison = await compareDatabases(server.url(SOURCE_DATABASE), server.url(TARGET_DATABASE), tables);
  if (comparison.rowCountMismatches.length > 0) {
    const details = comparison.rowCountMismatches.map(
      (mismatch) =>
        `${mismatch.table} has ${mismatch.target ?? 'no table and'} rows, expected ${mismatch.source}`,
    );
    throw new DemoError(`${TARGET_DATABASE} does not match ${SOURCE_DATABASE}: ${details.join('; ')}`);
  }
  say();
  say(`Checked ${TARGET_DATABASE} against ${SOURCE_DATABASE}:`);
  say(`  ✓ row counts match in all ${tables.length} tables`);
  say(
    comparison.contentDiffers.length === 0
      ? `  ✓ rows are identical in all ${tables.length} tables`
      : `  ✓ rows differ only where personal data was anonymised: ${comparison.contentDiffers.join(', ')}`,
  );
  const inventory = [...comparison.sourceObjects]
    .sort(([a], [b]) => OBJECT_KINDS.indexOf(a) - OBJECT_KINDS.indexOf(b))
    .map(([kind, count]) => `${count} ${count === 1 ? kind : kind.endsWith('x') ? `${kind}es` : `${kind}s`}`)
    .join(', ');
  say(
    comparison.missingObjects.length === 0
      ? `  ✓ schema objects all present (${inventory})`
      : `  ! missing in ${TARGET_DATABASE}: ${comparison.missingObjects.join(', ')} (the source has ${inventory})`,
  );
}

function printSummary(source: DemoSummary, exported: ExportResult, imported: ImportResult): void {
  const exportByTable = new Map(exported.tables.map((table) => [table.table, table]));
  const importByTable = new Map(imported.tables.map((table) => [table.table, table]));
  const rows = source.tables.map((table) => {
    const exportRow = exportByTable.get(table.table);
    const importRow = importByTable.get(table.table);
    return [
      table.table,
      formatUnits.count(table.rows),
      exportRow ? formatUnits.bytes(exportRow.bytes) : '—',
      exportRow ? formatUnits.duration(exportRow.durationMs) : '—',
      importRow ? formatUnits.duration(importRow.durationMs) : '—',
    ];
  });
  const totals = [
    'total',
    formatUnits.count(source.totalRows),
    formatUnits.bytes(exported.totalBytes),
    formatUnits.duration(exported.durationMs),
    formatUnits.duration(imported.durationMs),
  ];
  say();
  say(
    formatTable(
      [
        { header: 'table' },
        { header: 'rows', align: 'right' },
        { header: 'parquet', align: 'right' },
        { header: 'export', align: 'right' },
        { header: 'import', align: 'right' },
      ],
      [...rows, null, totals],
    ),
  );
  say('(total times are whole runs: schema, data, indexes and checks, not the sum of the tables)');
}

function waitForInterrupt(): Promise<void> {
  return new Promise((resolveWait) => {
    const stop = () => {
      process.stdout.write('\nStopping the PostgreSQL server …\n');
      resolveWait();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function runDemo(args: DemoArgs): Promise<string> {
  say('Starting an embedded PostgreSQL server …');
  const server = await startEmbeddedPostgres();
  try {
    say(`Building ${SOURCE_DATABASE} (scale ${args.scale}) …`);
    const source = await buildSource(server, args.scale);
    say(
      `  ${formatUnits.count(source.totalRows)} rows in ${source.tables.length} tables, ` +
        `built in ${formatUnits.duration(source.durationMs)}`,
    );

    await rm(STORE_DIR, { recursive: true, force: true });
    await mkdir(STORE_DIR, { recursive: true });
    const store = new LocalDirectoryStore(STORE_DIR);

    say(`Exporting ${SOURCE_DATABASE} to ${STORE_DIR} …`);
    const exported = await exportSnapshot({
      databaseUrl: server.url(SOURCE_DATABASE),
      store,
      reporter: new TerminalProgressReporter(process.stderr, { label: 'export' }),
      // Anonymised in strict mode with the demo's config (demo/devsnap.config.ts).
      config: (await loadConfig(DEMO_CONFIG)).config,
      // A fresh random secret unless you set one (as `openssl rand -base64 48` makes it): a weak
      // or published secret would let anyone reverse the fakes by trying candidate values.
      env: {
        ...process.env,
        DEVSNAP_SECRET: process.env.DEVSNAP_SECRET ?? randomBytes(48).toString('base64'),
      },
    });

    say(`Importing the latest snapshot into ${TARGET_DATABASE} …`);
    const imported = await importSnapshot({
      databaseUrl: server.url(TARGET_DATABASE),
      store,
      snapshot: 'latest',
      resetMode: 'drop-database',
      reporter: new TerminalProgressReporter(process.stderr, { label: 'import' }),
      // The target lives on a throwaway server created a minute ago, so there is nothing to lose.
      confirm: async (question) => {
        say(`  ${question} → yes (demo database)`);
        return true;
      },
    });

    printSummary(source, exported, imported);
    await checkCopy(server, source);
    const snapshotPath = store.localPath(`snapshots/${exported.snapshotId}`) ?? join(STORE_DIR, 'snapshots');
    const files = await directoryFiles(snapshotPath);
    say();
    say(`Snapshot ${exported.snapshotId}: ${files.count} files, ${formatUnits.bytes(files.bytes)}`);
    say(`  ${snapshotPath}`);

    if (args.keepRunning) {
      say();
      say(`The server is running. Connect to the imported database with:`);
      say(`  psql ${server.url(TARGET_DATABASE)}`);
      say(`and to the source with:`);
      say(`  psql ${server.url(SOURCE_DATABASE)}`);
      say('Press Ctrl-C to stop the server (its data is deleted; the snapshot stays).');
      await waitForInterrupt();
      return 'Server stopped.';
    }
    return [
      '',
      'The embedded PostgreSQL server has been stopped and its databases deleted; the snapshot files stay',
      `in ${snapshotPath}.`,
      `To explore ${TARGET_DATABASE} with psql, run: npm run demo -- --keep-running`,
    ].join('\n');
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  try {
    const args = parseDemoArgs(process.argv.slice(2));
    if (args === 'help') {
      say('usage: npm run demo -- [--keep-running] [--scale N]');
      return 0;
    }
    say(await runDemo(args));
    return 0;
  } catch (error) {
    const hint = error instanceof DevsnapError && error.hint ? ` (${error.hint})` : '';
    process.stderr.write(`demo failed: ${errorMessage(error)}${hint}\n`);
    if (process.env.DEVSNAP_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

// Exit with the result even if a client library still holds a handle open. (embedded-postgres's
// own exit hook, which forced code 0, is removed where the server is started.)
process.exit(await main());
