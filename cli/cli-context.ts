import { UsageError } from '../core/errors.js';
import type { ProgressReporter } from '../core/progress.js';
import { LocalDirectoryStore } from '../core/store/local-directory-store.js';
import type { SnapshotStore } from '../core/store/snapshot-store.js';
import { TerminalProgressReporter } from './terminal-progress-reporter.js';

/** What every command gets from the shell: where to write, and whether a person is watching. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** A terminal on stdin and stderr: progress can redraw and questions can be asked. */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Reads one answer from the terminal (only called when interactive). */
  ask(question: string): Promise<string>;
  /** Sets the exit code of a command that printed its own result but did not succeed (doctor). */
  setExitCode?(code: number): void;
}

export function resolveStore(option: string | undefined, env: NodeJS.ProcessEnv): SnapshotStore {
  const location = option ?? env.DEVSNAP_STORE;
  if (!location) {
    throw new UsageError('No snapshot store given.', {
      hint: 'Pass --store DIR (or set DEVSNAP_STORE), e.g. --store ./snapshots.',
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new UsageError(`Store ${location} is not supported yet; only local directories are.`, {
      hint: 'Pass a directory path as --store.',
    });
  }
  return new LocalDirectoryStore(location);
}

export function resolveDatabaseUrl(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = option ?? env.DEVSNAP_DATABASE_URL;
  if (!url) {
    throw new UsageError('No database given.', {
      hint: 'Pass --database-url postgres://user:password@host:5432/db (or set DEVSNAP_DATABASE_URL).',
    });
  }
  return url;
}

/** Progress on stderr: live on a terminal, one line per phase and finished table otherwise. */
export function terminalReporter(io: CliIo): ProgressReporter {
  return new TerminalProgressReporter(io.stderr, { interactive: io.interactive });
}
