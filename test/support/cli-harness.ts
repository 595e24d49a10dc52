import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../cli/cli-context.js';
import { runCli } from '../../cli/program.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with captured output and no terminal (like a script). */
export async function runDevsnap(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; answers?: string[] } = {},
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const answers = [...(options.answers ?? [])];
  const io: CliIo = {
    stdout,
    stderr,
    interactive: options.answers !== undefined,
    env: options.env ?? {},
    ask: async () => answers.shift() ?? '',
  };
  const code = await runCli(args, io);
  return { code, stdout: out, stderr: err };
}

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/devsnap.js');

/** Runs bin/devsnap.js (the compiled dist/, rebuilt by the global setup when stale) as a user's shell would. */
export function spawnDevsnap(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: readonly string[] = [],
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DEVSNAP_IMPORT_LOCK_WAIT_MS: process.env.DEVSNAP_IMPORT_LOCK_WAIT_MS,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Where a test has `devsnap init` write a config: a fresh folder inside the repository, where the
 * generated `import … from 'devsnap'` resolves (the package refers to itself); .devsnap/ is
 * gitignored. remove() deletes the folder.
 */
export async function initConfigFile(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const directory = join(
    dirname(fileURLToPath(import.meta.url)),
    '../../.devsnap',
    `${prefix}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(directory, { recursive: true });
  return {
    path: join(directory, 'devsnap.config.ts'),
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

/** `devsnap init --json` into `out`, as a user runs it: the exit code, its JSON result and the config written. */
export async function runInit(
  databaseUrl: string,
  out: string,
): Promise<{ code: number; frameworks: unknown; text: string }> {
  const run = await runDevsnap(['init', '--database-url', databaseUrl, '--out', out, '--json']);
  const text = run.code === 0 ? await readFile(out, 'utf8') : '';
  return { code: run.code, frameworks: run.code === 0 ? JSON.parse(run.stdout).frameworks : null, text };
}
