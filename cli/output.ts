import type { CliIo } from './cli-context.js';

/** Prints a command's result: one JSON document for scripts, or text for people. */
export function emit(io: CliIo, json: boolean | undefined, value: object, text: () => string): void {
  if (json) io.stdout.write(`${JSON.stringify({ ok: true, ...value }, null, 2)}\n`);
  else io.stdout.write(`${text()}\n`);
}
