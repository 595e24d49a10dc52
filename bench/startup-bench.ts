/**
 * `npm run bench:startup`: how fast the installed CLI starts and how big and quick to start the
 * Lambda bundles are, against the targets of issue 12, with baselines measured in the same run.
 *
 *   DEVSNAP_BENCH_RUNS=15   runs of each start-up command (medians and minimums are reported)
 *
 * Start-up runs bin/devsnap.js over the built dist/ (what `npm i devsnap` installs), interleaved with
 * `node -e 0` (the floor any Node CLI pays) and the CLI the way it ran before it was compiled
 * (tsx over the TypeScript sources). `list` reads a local store holding three snapshots of a small
 * demo database, exported by the CLI itself. Each Lambda step is bundled as `cdk synth` does (with the
 * Data API, and the plan step of pg mode, which writes Parquet too), and its init (a fresh process
 * importing the bundle) measured like a cold start; where a bundle carries parquet-wasm gzipped, so is
 * what its first Parquet write pays to inflate and compile it, and each asset's deflated size (about
 * its zip's, which is what Lambda downloads). Wall-clock times: on a busy machine the minimum is the
 * fairer figure, and the load average is printed with the results.
 *
 * Prints a table and writes bench/results/startup.json.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { formatUnits } from '../cli/format-units.js';
import { formatTable } from '../cli/text-table.js';
import { buildDemoDatabase } from '../demo/demo-database.js';
import {
  bundleLambda,
  type LambdaBundle,
  PARQUET_WASM_GZ,
  type PipelineSource,
  type PipelineStep,
} from '../infra/lambda-bundle.js';
import { buildPackage, packageBuildIsStale } from '../tools/build-package.js';
import { startEmbeddedPostgres } from '../tools/embedded-postgres-server.js';
import { withPgClient } from '../tools/pg-client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/devsnap.js');
const RESULTS_FILE = join(ROOT, 'bench/results/startup.json');
/** Issue 12: each Lambda asset at most 8 MB unzipped. */
const LAMBDA_LIMIT_BYTES = 8_000_000;
const log = (message: string) => process.stderr.write(`${message}\n`);

const CPU_TIME_RECORDER = join(ROOT, 'bench/cpu-time-recorder.cjs');

interface Timing {
  readonly name: string;
  readonly targetMs?: number;
  readonly medianMs: number;
  readonly minMs: number;
  /** CPU time (user + system) the process used, median: the work, whatever the machine's load. */
  readonly cpuMedianMs: number;
  readonly samplesMs: readonly number[];
}

/** Runs a command to completion and returns its wall-clock time; a failure stops the bench. */
function timeCommand(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', CPU_TIME_RECORDER, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Every command once per round, in turn, so a busy moment of the machine hits them all alike. */
async function interleaved(
  commands: readonly { name: string; args: string[]; targetMs?: number }[],
  runs: number,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Timing[]> {
  const samples = commands.map(() => [] as number[]);
  const cpu = commands.map(() => [] as number[]);
  const cpuFile = join(await mkdtemp(join(tmpdir(), 'devsnap-cpu-')), 'cpu');
  const measured = { ...env, DEVSNAP_CPU_TIME_FILE: cpuFile };
  for (const command of commands) await timeCommand(command.args, cwd, measured); // warm the page cache
  for (let round = 0; round < runs; round++) {
    for (const [index, command] of commands.entries()) {
      await rm(cpuFile, { force: true });
      samples[index]!.push(await timeCommand(command.args, cwd, measured));
      cpu[index]!.push(Number(await readFile(cpuFile, 'utf8')));
    }
  }
  await rm(dirname(cpuFile), { recursive: true, force: true });
  return commands.map((command, index) => ({
    name: command.name,
    targetMs: command.targetMs,
    medianMs: median(samples[index]!),
    minMs: Math.min(...samples[index]!),
    cpuMedianMs: median(cpu[index]!),
    samplesMs: samples[index]!.map(Math.round),
  }));
}

/** Three snapshots of a small demo database, exported by the built CLI into a local store. */
async function storeWithSnapshots(work: string, env: NodeJS.ProcessEnv): Promise<string> {
  const server = await startEmbeddedPostgres();
  try {
    await withPgClient(server.url('postgres'), (client) => client.query('CREATE DATABASE bench_startup'));
    const url = server.url('bench_startup');
    await withPgClient(url, (client) => buildDemoDatabase(client, { scale: 0.05 }));
    const store = join(work, 'store');
    const config = join(ROOT, 'demo/devsnap.config.ts');
    for (let i = 0; i < 3; i++) {
      await timeCommand([BIN, 'export', '--database-url', url, '--store', store, '--config', config], work, {
        ...env,
        DEVSNAP_SECRET: randomBytes(32).toString('base64'),
      });
    }
    return store;
  } finally {
    await server.stop();
  }
}

interface MeasuredBundle extends LambdaBundle {
  readonly init: Timing;
  /** Deflate level 6 of each file, summed: about the zip Lambda downloads. */
  readonly deflatedBytes: number;
  /** Median ms a fresh process takes to gunzip parquet-wasm and to compile it, where it ships gzipped. */
  readonly firstParquet?: { readonly inflateMs: number; readonly compileMs: number };
}

/** What the first Parquet write pays for the gzipped binary, in a fresh process like a new container. */
const FIRST_PARQUET = `const { readFileSync } = await import('node:fs'); const { gunzipSync } = await import('node:zlib');
const started = performance.now(); const bytes = gunzipSync(readFileSync('./${PARQUET_WASM_GZ}'));
const inflated = performance.now(); new WebAssembly.Module(bytes);
process.stdout.write(JSON.stringify({ inflateMs: inflated - started, compileMs: performance.now() - inflated }));`;

async function firstParquet(directory: string, runs: number): Promise<MeasuredBundle['firstParquet']> {
  const samples: { inflateMs: number; compileMs: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', FIRST_PARQUET], {
        cwd: directory,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exited with ${code}`))));
    });
    samples.push(JSON.parse(output) as { inflateMs: number; compileMs: number });
  }
  return {
    inflateMs: median(samples.map((sample) => sample.inflateMs)),
    compileMs: median(samples.map((sample) => sample.compileMs)),
  };
}

const BUNDLES: readonly { name: string; step: PipelineStep; source: PipelineSource }[] = [
  { name: 'plan', step: 'plan', source: 'rds-data' },
  { name: 'export', step: 'export', source: 'rds-data' },
  { name: 'finalize', step: 'finalize', source: 'rds-data' },
  { name: 'plan (pg mode)', step: 'plan', source: 'pg' },
];

async function lambdaBundles(work: string, runs: number): Promise<Record<string, MeasuredBundle>> {
  const configPath = join(ROOT, 'demo/devsnap.config.ts');
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    DEVSNAP_BUCKET: 'bench',
    DEVSNAP_CLUSTER_ARN: 'arn:aws:rds:us-east-1:123456789012:cluster:bench',
    DEVSNAP_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
    DEVSNAP_DATABASE: 'bench',
  };
  const result: Record<string, MeasuredBundle> = {};
  for (const { name, step, source } of BUNDLES) {
    const outdir = join(work, 'lambda', `${step}-${source}`);
    const bundle = await bundleLambda({ step, source, configPath, outdir });
    const importBundle = ['--input-type=module', '-e', "await import('./index.mjs');"];
    const [init] = await interleaved([{ name: `${name} init`, args: importBundle }], runs, outdir, {
      ...env,
      ...(source === 'pg'
        ? { DEVSNAP_SOURCE: 'pg', DEVSNAP_DATABASE_URL: 'postgres://bench@localhost/bench' }
        : {}),
    });
    let deflatedBytes = 0;
    for (const file of await readdir(outdir))
      deflatedBytes += deflateRawSync(await readFile(join(outdir, file))).length;
    result[name] = {
      ...bundle,
      init: init!,
      deflatedBytes,
      ...(bundle.files[PARQUET_WASM_GZ] ? { firstParquet: await firstParquet(outdir, runs) } : {}),
    };
  }
  return result;
}

async function main(): Promise<void> {
  const runs = Number(process.env.DEVSNAP_BENCH_RUNS ?? '15');
  if (await packageBuildIsStale()) {
    log('▸ building dist/');
    await buildPackage();
  }
  const work = await mkdtemp(join(tmpdir(), 'devsnap-startup-bench-'));
  try {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    log('▸ exporting three snapshots of a small demo database into a local store');
    const store = await storeWithSnapshots(work, env);
    log(`▸ start-up, ${runs} interleaved runs each`);
    const startup = await interleaved(
      [
        { name: 'node -e 0 (floor)', args: ['-e', '0'] },
        { name: 'devsnap --version', args: [BIN, '--version'], targetMs: 300 },
        { name: 'devsnap --help', args: [BIN, '--help'], targetMs: 300 },
        { name: 'devsnap list (3 snapshots)', args: [BIN, 'list', '--store', store], targetMs: 600 },
        {
          name: 'before: tsx sources --version',
          args: ['--import', 'tsx', join(ROOT, 'cli/main.ts'), '--version'],
        },
      ],
      runs,
      ROOT,
      env,
    );
    log('▸ Lambda bundles and their cold-start init');
    const bundles = await lambdaBundles(work, Math.max(3, Math.round(runs / 3)));
    const machine = { cores: cpus().length, loadAverage: loadavg().map((load) => Number(load.toFixed(2))) };
    await mkdir(dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify({ machine, startup, bundles }, null, 2)}\n`);

    const ms = (value: number) => `${Math.round(value)} ms`;
    const verdict = (timing: Timing) =>
      timing.targetMs === undefined ? '' : timing.minMs <= timing.targetMs ? 'within target' : 'over target';
    const floor = startup[0]!.medianMs;
    process.stdout.write(
      `${formatTable(
        [
          { header: 'start-up' },
          { header: 'median', align: 'right' },
          { header: 'min', align: 'right' },
          { header: 'median − node', align: 'right' },
          { header: 'CPU', align: 'right' },
          { header: 'target', align: 'right' },
          { header: '' },
        ],
        startup.map((timing) => [
          timing.name,
          ms(timing.medianMs),
          ms(timing.minMs),
          ms(timing.medianMs - floor),
          ms(timing.cpuMedianMs),
          timing.targetMs === undefined ? '' : ms(timing.targetMs),
          verdict(timing),
        ]),
      )}\n\n${formatTable(
        [
          { header: 'Lambda step' },
          { header: 'index.mjs', align: 'right' },
          { header: 'binaries', align: 'right' },
          { header: 'unzipped', align: 'right' },
          { header: '≤ 8,000,000 B' },
          { header: 'deflated', align: 'right' },
          { header: 'init median', align: 'right' },
          { header: 'init min', align: 'right' },
          { header: 'init CPU', align: 'right' },
          { header: '1st Parquet: inflate + compile', align: 'right' },
          { header: 'largest parts of index.mjs' },
        ],
        Object.entries(bundles).map(([step, bundle]) => [
          step,
          formatUnits.bytes(bundle.files['index.mjs'] ?? 0),
          formatUnits.bytes(
            Object.entries(bundle.files)
              .filter(([name]) => name !== 'index.mjs')
              .reduce((sum, [, bytes]) => sum + bytes, 0),
          ),
          `${formatUnits.bytes(bundle.totalBytes)} (${bundle.totalBytes.toLocaleString('en')} B)`,
          bundle.totalBytes <= LAMBDA_LIMIT_BYTES ? 'yes' : 'NO',
          formatUnits.bytes(bundle.deflatedBytes),
          ms(bundle.init.medianMs),
          ms(bundle.init.minMs),
          ms(bundle.init.cpuMedianMs),
          bundle.firstParquet
            ? `${ms(bundle.firstParquet.inflateMs)} + ${ms(bundle.firstParquet.compileMs)}`
            : 'no Parquet',
          bundle.byPackage
            .slice(0, 4)
            .map(([name, bytes]) => `${name} ${formatUnits.bytes(bytes)}`)
            .join(', '),
        ]),
      )}\n\n${machine.cores} cores, load average ${machine.loadAverage.join(' / ')} while measuring. Results: ${RESULTS_FILE}\n`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
