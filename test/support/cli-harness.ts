import { spawn } from 'node:child_process';
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
