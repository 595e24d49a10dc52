import { createInterface } from 'node:readline/promises';
import { CleanupStack } from '../core/cleanup-registry.js';
import type { CliIo } from './cli-context.js';
import { handleInterrupts } from './interrupt-handler.js';
import { runCli } from './program.js';

// Deprecation notices from dependencies (pg's pgpass reader among them) mean nothing to a user
// of the CLI and would break its one-line errors.
process.noDeprecation = true;

const cleanup = new CleanupStack();
const { stdout, stderr } = handleInterrupts(cleanup);

const io: CliIo = {
  stdout,
  stderr,
  interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  env: process.env,
  cleanup,
  async ask(question) {
    const readline = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await readline.question(question);
    } finally {
      readline.close();
    }
  },
};

process.exitCode = await runCli(process.argv.slice(2), io);
