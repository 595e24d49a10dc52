/**
 * `npm run bench`: devsnap against pg_dump, pg_restore and raw COPY, all measured in one run on one
 * embedded PostgreSQL and the same demo database, so the ratios mean something on any machine.
 *
 *   DEVSNAP_BENCH_SCALE=20                       demo database scale (20 ≈ 2M rows; the default)
 *   DEVSNAP_BENCH_RUNS=3                         rounds of every scenario; times are medians
 *   DEVSNAP_BENCH_SCENARIOS=raw-copy,pg-dump     run only these scenarios
 *   DEVSNAP_PG_BIN_DIR=/usr/lib/postgresql/15/bin  where pg_dump / pg_restore / psql live
 *   DEVSNAP_BENCH_ROW_GROWTH=1000000,10000000    also export and import one table of each size, once,
 *                                                for peak memory as rows grow (minutes per size)
 *
 * Prints a results table and writes bench/results/latest.json (gitignored).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { formatUnits } from '../cli/format-units.js';
import { formatTable } from '../cli/text-table.js';
import { buildDemoDatabase, type DemoSummary } from '../demo/demo-database.js';
import { buildPackage, packageBuildIsStale } from '../tools/build-package.js';
import { startEmbeddedPostgres } from '../tools/embedded-postgres-server.js';
import { withPgClient } from '../tools/pg-client.js';
import { anonymiseRatios, anonymiseScenarios } from './anonymise-scenarios.js';
import { baselineScenarios } from './baseline-scenarios.js';
import { benchRatios, computeRatios, type RatioResult } from './bench-ratios.js';
import {
  type BenchContext,
  type BenchMeasurement,
  type BenchScenario,
  ScenarioSkipped,
} from './bench-scenario.js';
import { devsnapScenarios } from './devsnap-scenarios.js';
import { fakeScenarios, fakesTable } from './fake-scenarios.js';
import { findPgClientTools } from './pg-client-tools.js';
import { type GrowthPoint, growthTable, measureGrowthPoint, rowGrowthSizes } from './row-growth-curve.js';
import { subsetRatios, subsetScenarios } from './subset-scenarios.js';
import { summariseSamples } from './summarise-samples.js';

/** In run order: raw COPY first also warms the page cache, so no tool pays for a cold start. */
const SCENARIOS: readonly BenchScenario[] = [
  ...baselineScenarios,
  ...devsnapScenarios,
  ...anonymiseScenarios,
  ...subsetScenarios,
  ...fakeScenarios,
];

const SOURCE_DATABASE = 'bench_source';
const RESULTS_FILE = resolve(dirname(fileURLToPath(import.meta.url)), 'results/latest.json');

const log = (message: string) => process.stderr.write(`${message}\n`);

function readSettings(): { scale: number; runs: number; only: Set<string> | undefined } {
  const scale = Number(process.env.DEVSNAP_BENCH_SCALE ?? '20');
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(
      `DEVSNAP_BENCH_SCALE must be a positive number, got "${process.env.DEVSNAP_BENCH_SCALE}"`,
    );
  }
  const runs = Number(process.env.DEVSNAP_BENCH_RUNS ?? '3');
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`DEVSNAP_BENCH_RUNS must be a whole number ≥ 1, got "${process.env.DEVSNAP_BENCH_RUNS}"`);
  }
  const names = process.env.DEVSNAP_BENCH_SCENARIOS?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names?.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s) ${unknown.join(', ')} in DEVSNAP_BENCH_SCENARIOS; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  return { scale, runs, only: names ? new Set(names) : undefined };
}

/** Runs one scenario and turns whatever happens into a measurement; a failure never stops the others. */
async function measure(scenario: BenchScenario, context: BenchContext): Promise<BenchMeasurement> {
  log(`▸ ${scenario.name}: ${scenario.description}`);
  try {
    const outcome = await scenario.run(context);
    const measurement: BenchMeasurement = { scenario: scenario.name, status: 'ok', ...outcome };
    log(`  ${describe(measurement)}`);
    return measurement;
  } catch (error) {
    const status = error instanceof ScenarioSkipped ? 'skipped' : 'failed';
    const reason = error instanceof Error ? error.message : String(error);
    log(`  ${status}: ${reason}`);
    return { scenario: scenario.name, status, reason };
  }
}

function describe(measurement: BenchMeasurement): string {
  const parts = [
    measurement.durationMs === undefined ? undefined : formatUnits.duration(measurement.durationMs),
    measurement.bytes === undefined ? undefined : formatUnits.bytes(measurement.bytes),
    measurement.peakRssBytes === undefined
      ? undefined
      : `peak RSS ${formatUnits.bytes(measurement.peakRssBytes)}`,
  ];
  return parts.filter(Boolean).join(', ');
}

const truncate = (text: string, length: number) =>
  text.length > length ? `${text.slice(0, length - 1)}…` : text;

function ownTime(measurement: BenchMeasurement): string {
  const reported = measurement.details?.reportedDurationMs;
  return typeof reported === 'number'
    ? `${formatUnits.duration(reported)} by its own clock (no start-up)`
    : '';
}

function resultsTable(measurements: readonly BenchMeasurement[]): string {
  const orDash = (value: number | undefined, format: (value: number) => string) =>
    value === undefined ? '—' : format(value);
  return formatTable(
    [
      { header: 'scenario' },
      { header: 'time', align: 'right' },
      { header: 'bytes', align: 'right' },
      { header: 'peak RSS', align: 'right' },
      { header: 'rows', align: 'right' },
      { header: 'note' },
    ],
    measurements.map((m) => [
      m.scenario,
      orDash(m.durationMs, formatUnits.duration),
      orDash(m.bytes, formatUnits.bytes),
      orDash(m.peakRssBytes, formatUnits.bytes),
      orDash(m.rows, formatUnits.count),
      m.status === 'ok' ? ownTime(m) : truncate(`${m.status}: ${m.reason}`, 100),
    ]),
  );
}

function ratiosTable(ratios: readonly RatioResult[]): string {
  const ratio = (value: number | undefined) => (value === undefined ? '—' : formatUnits.ratio(value));
  return formatTable(
    [
      { header: 'ratio' },
      { header: 'min', align: 'right' },
      { header: 'median', align: 'right' },
      { header: 'max', align: 'right' },
      { header: 'goal' },
      { header: 'meaning' },
    ],
    ratios.map((result) => [
      result.name,
      ratio(result.spread?.min),
      ratio(result.spread?.median ?? result.value),
      ratio(result.spread?.max),
      goalVerdict(result),
      result.meaning,
    ]),
  );
}

/** `≤ 1.00×: met` only when every round met it; otherwise how many rounds did. */
function goalVerdict(result: RatioResult): string {
  if (result.goal === undefined) return '';
  const goal = `≤ ${formatUnits.ratio(result.goal)}`;
  if (!result.spread) return `${goal}: not measured`;
  if (result.spread.max <= result.goal) return `${goal}: met`;
  if (result.spread.min > result.goal) return `${goal}: MISSED`;
  return `${goal}: MISSED in some rounds`;
}

const optionalSection = (table: string | undefined): string[] => (table ? ['', table] : []);

function buildSource(url: string, scale: number): Promise<{ source: DemoSummary; serverVersion: string }> {
  return withPgClient(url, async (client) => {
    const source = await buildDemoDatabase(client, { scale });
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return { source, serverVersion: rows[0]?.server_version ?? 'unknown' };
  });
}

async function runBench(): Promise<boolean> {
  const { scale, runs, only } = readSettings();
  const started = performance.now();
  if (await packageBuildIsStale()) {
    log('Building dist/ (the scenarios run the compiled CLI) …');
    await buildPackage();
  }
  log('Starting an embedded PostgreSQL server …');
  const server = await startEmbeddedPostgres();
  const workDir = await mkdtemp(join(tmpdir(), 'devsnap-bench-'));
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  try {
    const dropDatabase = async (name: string) => {
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
    };
    const createDatabase = async (name: string) => {
      await dropDatabase(name);
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE template0 ENCODING 'UTF8'`);
      return server.url(name);
    };

    log(`Building the demo database at scale ${scale} …`);
    const { source, serverVersion } = await buildSource(await createDatabase(SOURCE_DATABASE), scale);
    log(
      `  ${formatUnits.count(source.totalRows)} rows in ${source.tables.length} tables, ` +
        `built in ${formatUnits.duration(source.durationMs)}`,
    );
    const serverMajor = Number.parseInt(serverVersion, 10);
    const found = await findPgClientTools(serverMajor);
    if (!found.tools) log(`PostgreSQL client tools unavailable, skipping their baselines: ${found.reason}`);

    // The latest run of each scenario, which later scenarios build on (pg-restore reads pg-dump's file).
    const latest = new Map<string, BenchMeasurement>();
    const context: BenchContext = {
      server,
      sourceDatabase: SOURCE_DATABASE,
      source,
      workDir,
      pgTools: found.tools,
      results: latest,
      createDatabase,
      dropDatabase,
      log,
    };
    // Rounds rather than repeats in a row, so a burst of background load hits every scenario alike.
    const samples = new Map<string, BenchMeasurement[]>();
    for (let round = 1; round <= runs; round += 1) {
      if (runs > 1) log(`Round ${round} of ${runs}`);
      for (const scenario of SCENARIOS) {
        if (only && !only.has(scenario.name)) continue;
        // A scenario that failed or was skipped once would only do so again.
        if (latest.has(scenario.name) && latest.get(scenario.name)?.status !== 'ok') continue;
        const measurement = await measure(scenario, context);
        latest.set(scenario.name, measurement);
        samples.set(scenario.name, [...(samples.get(scenario.name) ?? []), measurement]);
      }
    }

    const growth: GrowthPoint[] = [];
    for (const rows of rowGrowthSizes()) {
      log(`▸ row growth: one table of ${formatUnits.count(rows)} rows`);
      try {
        growth.push(await measureGrowthPoint(context, rows));
      } catch (error) {
        log(`  failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }

    const results = new Map([...samples].map(([name, runsOf]) => [name, summariseSamples(runsOf)]));
    const measurements = [...results.values()];
    const ratios = computeRatios([...benchRatios, ...anonymiseRatios, ...subsetRatios], results, samples);
    const exported = results.get('devsnap-export');
    const partialExport = exported?.status === 'ok' && exported.rows !== source.totalRows;

    process.stdout.write(
      [
        '',
        `devsnap bench — scale ${scale}: ${formatUnits.count(source.totalRows)} rows, PostgreSQL ${serverVersion}, ` +
          `${cpus().length} CPUs, Node ${process.version}; times are medians of ${runs} run${runs === 1 ? '' : 's'}`,
        '',
        resultsTable(measurements),
        '',
        ratiosTable(ratios),
        ...optionalSection(fakesTable(samples.get('fakes') ?? [])),
        ...optionalSection(growth.length > 0 ? growthTable(growth) : undefined),
        ...(partialExport
          ? [
              '',
              `note: devsnap exported ${exported.rows} of ${source.totalRows} rows; ratios compare unequal work`,
            ]
          : []),
        '',
      ].join('\n'),
    );

    await mkdir(dirname(RESULTS_FILE), { recursive: true });
    const report = {
      createdAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - started),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        totalMemoryBytes: totalmem(),
        platform: process.platform,
        node: process.version,
      },
      postgres: { server: serverVersion, clientTools: found.tools?.version ?? null },
      scale,
      runs,
      source,
      scenarios: measurements,
      rowGrowth: growth,
      ratios: ratios.map(({ name, metric, numerator, denominator, value, spread, rounds, goal }) => ({
        name,
        metric,
        numerator,
        denominator,
        value: value ?? null,
        min: spread?.min ?? null,
        median: spread?.median ?? null,
        max: spread?.max ?? null,
        rounds,
        goal: goal ?? null,
      })),
    };
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    log(`Results written to ${RESULTS_FILE} (total ${formatUnits.duration(report.durationMs)})`);
    return measurements.every((measurement) => measurement.status !== 'failed');
  } finally {
    await admin.end().catch(() => {});
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

// Exit with the result even if a client library still holds a handle open. (embedded-postgres's
// own exit hook, which forced code 0, is removed where the server is started.)
let exitCode = 0;
try {
  if (!(await runBench())) exitCode = 1;
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = 1;
}
process.exit(exitCode);
