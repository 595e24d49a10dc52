import { Writable } from 'node:stream';
import type { CleanupStack } from '../core/cleanup-registry.js';

/** The exit code of a run ended by SIGINT or SIGTERM (128 + SIGINT), as shells expect. */
export const INTERRUPTED_EXIT_CODE = 130;

/** How long an interrupted run may spend removing what it created before it exits anyway. */
const CLEANUP_DEADLINE_MS = 20_000;

/** A stream that forwards to `target` until the run is interrupted, then drops everything. */
function gatedStream(target: NodeJS.WriteStream, isOpen: () => boolean): NodeJS.WriteStream {
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      if (isOpen()) target.write(chunk);
      callback();
    },
  });
  return Object.assign(stream, {
    isTTY: target.isTTY,
    columns: target.columns,
  }) as unknown as NodeJS.WriteStream;
}

/**
 * Makes SIGINT and SIGTERM end a run cleanly: output stops (the work still in flight fails
 * silently), the steps core registered remove what this run created, one line says what was
 * removed, and the process exits 130. A second signal exits at once.
 */
export function handleInterrupts(cleanup: CleanupStack): {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
} {
  let interrupted = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(INTERRUPTED_EXIT_CODE);
    interrupted = true;
    const deadline = new Promise<string[]>((resolve) =>
      setTimeout(
        () => resolve(['cleanup took too long; run `devsnap prune` to remove what is left']),
        CLEANUP_DEADLINE_MS,
      ).unref(),
    );
    const done = await Promise.race([cleanup.runAll(), deadline]);
    // On a terminal: clear a live line and show the cursor the progress bars hid.
    const clear = process.stderr.isTTY ? '\r\x1b[K\x1b[?25h' : '';
    process.stderr.write(
      `${clear}devsnap: interrupted (${signal}); ${done.join('; ') || 'nothing to clean up'}.\n`,
    );
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`devsnap --help | head -1`) is not an error: stop quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const open = () => !interrupted;
  return { stdout: gatedStream(process.stdout, open), stderr: gatedStream(process.stderr, open) };
}
