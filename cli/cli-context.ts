import { UsageError } from '../core/errors.js';
import type { ProgressReporter } from '../core/progress.js';
import { LocalDirectoryStore } from '../core/store/local-directory-store.js';
import type { SnapshotStore } from '../core/store/snapshot-store.js';

/** What every command gets from the shell: where to write, and whether a person is watching. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** A terminal on stdin and stderr: progress can redraw and questions can be asked. */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Reads one answer from the terminal (only called when interactive). */
  ask(question: string): Promise<string>;
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

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Renders core progress on stderr: redrawn on a terminal, one line per finished table otherwise. */
export function terminalReporter(io: CliIo): ProgressReporter {
  let live = false;
  const clear = () => {
    if (live) io.stderr.write('\r\x1b[2K');
    live = false;
  };
  return {
    report(event) {
      switch (event.type) {
        case 'phase':
          clear();
          io.stderr.write(`• ${event.phase}${event.detail ? `: ${event.detail}` : ''}\n`);
          break;
        case 'table-progress':
          if (io.interactive) {
            clear();
            io.stderr.write(`  ${event.table}: ${event.rows.toLocaleString('en-US')} rows…`);
            live = true;
          }
          break;
        case 'table-done':
          clear();
          io.stderr.write(
            `  ✓ ${event.table}: ${event.rows.toLocaleString('en-US')} rows${event.bytes ? `, ${formatBytes(event.bytes)}` : ''} in ${formatDuration(event.durationMs)}\n`,
          );
          break;
        case 'notice':
          clear();
          io.stderr.write(`! ${event.message}\n`);
          break;
        case 'table-start':
          break;
      }
    },
  };
}
