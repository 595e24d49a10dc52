import type { CleanupRegistry } from '../core/cleanup-registry.js';
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
  /** Where commands record what they create, for Ctrl-C to remove (see interrupt-handler). */
  readonly cleanup?: CleanupRegistry;
  /** Sets the exit code of a command that printed its own result but did not succeed (doctor). */
  setExitCode?(code: number): void;
}

/** The store a location names; the AWS SDK is loaded only for s3:// (and the share-link reader only for https://). */
export async function resolveStore(
  option: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<SnapshotStore> {
  const location = option ?? env.DEVSNAP_STORE;
  if (!location) {
    throw new UsageError('No snapshot store given.', {
      hint: 'Pass --store DIR or --store s3://bucket/prefix (or set DEVSNAP_STORE), e.g. --store ./snapshots.',
    });
  }
  if (/^s3:\/\//i.test(location)) {
    // Credentials come from the SDK's default chain; DEVSNAP_S3_ENDPOINT points at an S3-compatible server.
    const { S3SnapshotStore } = await import('../core/store/s3-snapshot-store.js');
    return S3SnapshotStore.fromUrl(location, { endpoint: env.DEVSNAP_S3_ENDPOINT || undefined });
  }
  // A share link from `devsnap share`: presigned URLs, no AWS credentials needed (read-only).
  if (/^https?:\/\//i.test(location)) {
    const { HttpSnapshotStore } = await import('../core/store/http-snapshot-store.js');
    return new HttpSnapshotStore(location);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new UsageError(
      `Store ${location} is not supported; use a local directory, s3://bucket/prefix or a share link.`,
      {
        hint: 'Pass a directory path, an s3:// location or the https:// link `devsnap share` printed as --store.',
      },
    );
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

/** Progress on stderr: bars per table on a terminal (cli-progress, loaded only then), plain lines otherwise. */
export async function terminalReporter(io: CliIo): Promise<ProgressReporter> {
  const bars = io.interactive
    ? await (await import('./table-progress-bars.js')).createTableBars(io.stderr)
    : undefined;
  return new TerminalProgressReporter(io.stderr, { interactive: io.interactive, bars });
}

/** `--jobs <n>`: how many connections work at once. */
export function parseJobs(value: string): number {
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
    throw new UsageError(`--jobs must be a whole number from 1 to 64 (got ${JSON.stringify(value)}).`);
  }
  return jobs;
}
