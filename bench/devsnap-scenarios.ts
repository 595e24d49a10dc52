import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { countTableRows } from '../demo/count-table-rows.js';
import { directoryFiles } from '../tools/directory-files.js';
import { type BenchContext, type BenchScenario, ScenarioSkipped } from './bench-scenario.js';
import { type MeasuredProcess, processFailure, runMeasuredProcess } from './run-measured-process.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PEAK_RSS_RECORDER = pathToFileURL(join(REPO_ROOT, 'bench/peak-rss-recorder.mjs')).href;
/** The installed command (compiled JavaScript, lazy imports), so start-up is what users wait for. */
const DEVSNAP_BIN = join(REPO_ROOT, 'bin/devsnap.js');

interface CliRun {
  readonly process: MeasuredProcess;
  readonly output: Record<string, unknown>;
}

/**
 * Runs `devsnap <args> --json` as its own process, the way a developer or the nightly job would, so
 * start-up, module loading and peak memory are part of what is measured. It runs the compiled CLI
 * (bin/devsnap.js, dist/ rebuilt by run-bench when stale), not tsx, as an installed package does.
 */
export async function runDevsnapCli(
  context: BenchContext,
  label: string,
  args: readonly string[],
): Promise<CliRun> {
  const peakRssFile = join(context.workDir, `${label}.peak-rss.json`);
  const result = await runMeasuredProcess(
    process.execPath,
    ['--import', PEAK_RSS_RECORDER, DEVSNAP_BIN, ...args, '--json'],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DEVSNAP_PEAK_RSS_FILE: peakRssFile,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      peakRssFile,
    },
  );
  let output: Record<string, unknown> | undefined;
  try {
    output = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    output = undefined;
  }
  if (result.exitCode !== 0 || !output || output.ok !== true) {
    const error = output?.error as { message?: string } | undefined;
    if (error?.message) throw new Error(`devsnap ${args[0]} failed: ${error.message}`);
    throw processFailure(`devsnap ${args[0]}`, result);
  }
  return { process: result, output };
}

const storeDir = (context: BenchContext, scenario: string) => join(context.workDir, `${scenario}-store`);

/**
 * A devsnap export into its own local store. Later scenarios (subset export, anonymised export)
 * are this with a different name and extra arguments, e.g. `devsnapExport('devsnap-export-subset', ['--config', …])`.
 */
export function devsnapExport(name: string, extraArgs: readonly string[] = []): BenchScenario {
  return {
    name,
    description: `devsnap export${extraArgs.map((arg) => ` ${arg}`).join('')} (CLI child process, local directory store)`,
    async run(context) {
      const store = storeDir(context, name);
      await rm(store, { recursive: true, force: true });
      await mkdir(store, { recursive: true });
      const { process: run, output } = await runDevsnapCli(context, name, [
        'export',
        '--database-url',
        context.server.url(context.sourceDatabase),
        '--store',
        store,
        ...extraArgs,
      ]);
      return {
        durationMs: run.durationMs,
        // The whole snapshot as it would be uploaded: data files, schema and manifest.
        bytes: (await directoryFiles(store)).bytes,
        peakRssBytes: run.peakRssBytes,
        rows: Number(output.totalRows),
        details: {
          snapshotId: output.snapshotId,
          tableRows: Object.fromEntries(
            (output.tables as { table: string; rows: number }[]).map((table) => [table.table, table.rows]),
          ),
          dataBytes: output.totalBytes,
          reportedDurationMs: output.durationMs,
          store,
        },
      };
    },
  };
}

/** Throws unless every table of the database at `url` holds the rows the export wrote. */
async function expectRows(url: string, expected: readonly [string, number][], what: string): Promise<void> {
  const counted = await countTableRows(
    url,
    expected.map(([table]) => table),
  );
  const wrong = expected.filter(([table, rows]) => counted.get(table) !== rows);
  if (wrong.length > 0) {
    throw new Error(
      `${what} row counts differ from the export: ${wrong.map(([table, rows]) => `${table} ${counted.get(table)} ≠ ${rows}`).join(', ')}`,
    );
  }
}

/** A devsnap import of the latest snapshot written by `exportScenario`, into a database that does not exist yet. */
export function devsnapImport(name: string, exportScenario: string): BenchScenario {
  return {
    name,
    description: `devsnap import latest --reset drop-database of ${exportScenario}'s snapshot (CLI child process)`,
    async run(context) {
      const exported = context.results.get(exportScenario);
      if (exported?.status !== 'ok') throw new ScenarioSkipped(`needs ${exportScenario}`);
      const expected = Object.entries(exported.details?.tableRows as Record<string, number>);
      const database = `bench_${name.replaceAll('-', '_')}`;
      await context.dropDatabase(database);
      const url = context.server.url(database);
      try {
        const { process: run, output } = await runDevsnapCli(context, name, [
          'import',
          'latest',
          '--store',
          storeDir(context, exportScenario),
          '--database-url',
          url,
          '--yes',
        ]);
        // A fast import of the wrong data is not a result: every table must hold what was exported.
        await expectRows(url, expected, 'imported');
        return {
          durationMs: run.durationMs,
          peakRssBytes: run.peakRssBytes,
          rows: Number(output.totalRows),
          details: { reportedDurationMs: output.durationMs, resetMode: output.resetMode },
        };
      } finally {
        await context.dropDatabase(database);
        // The copy the import keeps for `devsnap reset` (its time is part of the measurement).
        await context.dropDatabase(`${database}__devsnap_template`);
      }
    },
  };
}

/**
 * `devsnap reset` of a database just imported from `exportScenario`'s snapshot: the import (not
 * measured) keeps `<db>__devsnap_template`, and the reset copies it back with CREATE DATABASE …
 * TEMPLATE and swaps it in. Compared with devsnap-import, which loads the same snapshot from Parquet.
 */
export function devsnapReset(name: string, exportScenario: string): BenchScenario {
  return {
    name,
    description: `devsnap reset of a database imported from ${exportScenario}'s snapshot (CLI child process)`,
    async run(context) {
      const exported = context.results.get(exportScenario);
      if (exported?.status !== 'ok') throw new ScenarioSkipped(`needs ${exportScenario}`);
      const expected = Object.entries(exported.details?.tableRows as Record<string, number>);
      const database = `bench_${name.replaceAll('-', '_')}`;
      const template = `${database}__devsnap_template`;
      await context.dropDatabase(database);
      await context.dropDatabase(template);
      const url = context.server.url(database);
      try {
        await runDevsnapCli(context, `${name}-import`, [
          'import',
          'latest',
          '--store',
          storeDir(context, exportScenario),
          '--database-url',
          url,
          '--yes',
        ]);
        const { process: run, output } = await runDevsnapCli(context, name, [
          'reset',
          '--database-url',
          url,
          '--yes',
        ]);
        await expectRows(url, expected, 'reset');
        return {
          durationMs: run.durationMs,
          peakRssBytes: run.peakRssBytes,
          rows: expected.reduce((sum, [, rows]) => sum + rows, 0),
          // The reset itself, without the CLI's start-up.
          details: { reportedDurationMs: output.durationMs },
        };
      } finally {
        await context.dropDatabase(database);
        await context.dropDatabase(template);
      }
    },
  };
}

/**
 * The plain export runs without anonymisation rules; the demo database has personal columns, so
 * its config says warn mode (strict, the default, would refuse them).
 */
const NO_RULES_CONFIG = join(REPO_ROOT, 'bench/configs/no-rules.devsnap.config.ts');

export const devsnapScenarios: readonly BenchScenario[] = [
  devsnapExport('devsnap-export', ['--config', NO_RULES_CONFIG]),
  devsnapImport('devsnap-import', 'devsnap-export'),
  devsnapReset('devsnap-reset', 'devsnap-export'),
  // Two connections in one exported snapshot, the big tables in key ranges (the pipeline's steps).
  devsnapExport('devsnap-export-j2', ['--config', NO_RULES_CONFIG, '--jobs', '2']),
];
