import { createInterface } from 'node:readline/promises';
import type { CliIo } from './cli-context.js';
import { runCli } from './program.js';

const io: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  env: process.env,
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
