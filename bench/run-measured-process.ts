import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';

export interface MeasuredProcess {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Wall clock from spawn to exit, start-up included, as a user would wait for it. */
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak RSS of the process itself (not of children it forks), when it could be read. */
  readonly peakRssBytes: number | undefined;
}

export interface MeasureOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * For Node processes started with bench/peak-rss-recorder.ts preloaded: the file it writes the
   * exact peak RSS to. Other processes are sampled from /proc/<pid>/status (VmHWM).
   */
  readonly peakRssFile?: string;
}

const SAMPLE_INTERVAL_MS = 100;

/** Reads the kernel's high-water mark of resident memory; undefined once the process is gone. */
async function readVmHwm(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kilobytes = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    return kilobytes === undefined ? undefined : Number(kilobytes) * 1024;
  } catch {
    return undefined;
  }
}

/** Runs a command to completion, timing it and tracking its peak memory. Never throws on exit codes. */
export async function runMeasuredProcess(
  command: string,
  args: readonly string[],
  options: MeasureOptions = {},
): Promise<MeasuredProcess> {
  if (options.peakRssFile) await rm(options.peakRssFile, { force: true });
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

  // VmHWM only grows, so the last successful sample is the peak up to ~100 ms before exit.
  let sampledPeak: number | undefined;
  let sampling = Promise.resolve();
  const sampler = setInterval(() => {
    const pid = child.pid;
    if (pid === undefined) return;
    sampling = sampling.then(async () => {
      const value = await readVmHwm(pid);
      if (value !== undefined) sampledPeak = Math.max(sampledPeak ?? 0, value);
    });
  }, SAMPLE_INTERVAL_MS);

  const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, closeSignal) => resolve({ exitCode: code, signal: closeSignal }));
    },
  ).finally(() => clearInterval(sampler));
  const durationMs = performance.now() - started;
  await sampling;

  let peakRssBytes = sampledPeak;
  if (options.peakRssFile) {
    const recorded = await readFile(options.peakRssFile, 'utf8').catch(() => undefined);
    if (recorded) peakRssBytes = (JSON.parse(recorded) as { peakRssBytes: number }).peakRssBytes;
  }
  return {
    exitCode,
    signal,
    durationMs,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
    peakRssBytes,
  };
}

/** The error to throw when a measured process failed: its exit status and the line that says why. */
export function processFailure(what: string, result: MeasuredProcess): Error {
  const status = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  // Node prints the error under a few lines of internals; tools print theirs last.
  const why = lines.find((line) => /^(\w*Error\b|[\w-]+: error:|devsnap:)/.test(line)) ?? lines.at(-1);
  return new Error(`${what} ${status}${why ? `: ${why}` : ''}`);
}
