import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { directoryFiles } from '../tools/directory-files.js';
import { quoteTableName, withPgClient } from '../tools/pg-client.js';
import { type BenchContext, type BenchScenario, ScenarioSkipped } from './bench-scenario.js';
import type { PgClientTools } from './pg-client-tools.js';
import { processFailure, runMeasuredProcess } from './run-measured-process.js';

/** Where pg-dump leaves its archive for the pg-restore scenarios. */
const dumpPath = (context: BenchContext) => join(context.workDir, 'source.dump');

function requireTools(context: BenchContext): PgClientTools {
  if (!context.pgTools) throw new ScenarioSkipped('PostgreSQL client tools are not installed');
  return context.pgTools;
}

/**
 * The floor: every table's rows streamed out with COPY as text and thrown away. No tool that reads
 * through the wire protocol can be faster, so export time over this is devsnap's own overhead.
 */
const rawCopy: BenchScenario = {
  name: 'raw-copy',
  description: 'COPY … TO STDOUT of every table to /dev/null (pg-copy-streams, one connection)',
  async run(context) {
    return withPgClient(context.server.url(context.sourceDatabase), async (client) => {
      let bytes = 0;
      const started = performance.now();
      for (const { table } of context.source.tables) {
        const devNull = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            bytes += chunk.length;
            callback();
          },
        });
        await pipeline(client.query(copyTo(`COPY ${quoteTableName(table)} TO STDOUT`)), devNull);
      }
      return { durationMs: performance.now() - started, bytes, rows: context.source.totalRows };
    });
  },
};

const pgDump: BenchScenario = {
  name: 'pg-dump',
  description: 'pg_dump -Fc (custom format, default compression) to a file',
  async run(context) {
    const tools = requireTools(context);
    const target = dumpPath(context);
    const result = await runMeasuredProcess(tools.pgDump, [
      '-Fc',
      '--no-owner',
      '-f',
      target,
      '-d',
      context.server.url(context.sourceDatabase),
    ]);
    if (result.exitCode !== 0) throw processFailure('pg_dump', result);
    return {
      durationMs: result.durationMs,
      bytes: (await stat(target)).size,
      peakRssBytes: result.peakRssBytes,
      rows: context.source.totalRows,
      details: { version: tools.version },
    };
  },
};

/** pg_dump's own parallel dump: directory format, two jobs, for `devsnap export --jobs 2`. */
const pgDumpJ2: BenchScenario = {
  name: 'pg-dump-j2',
  description: 'pg_dump -Fd -j2 (directory format, two jobs) to a directory',
  async run(context) {
    const tools = requireTools(context);
    const target = join(context.workDir, 'source-j2.dumpdir');
    await rm(target, { recursive: true, force: true });
    const result = await runMeasuredProcess(tools.pgDump, [
      '-Fd',
      '-j2',
      '--no-owner',
      '-f',
      target,
      '-d',
      context.server.url(context.sourceDatabase),
    ]);
    if (result.exitCode !== 0) throw processFailure('pg_dump -j2', result);
    return {
      durationMs: result.durationMs,
      bytes: (await directoryFiles(target)).bytes,
      peakRssBytes: result.peakRssBytes,
      rows: context.source.totalRows,
      details: { version: tools.version },
    };
  },
};

function pgRestore(name: string, jobs: number): BenchScenario {
  return {
    name,
    description: `pg_restore${jobs > 1 ? ` -j${jobs}` : ''} of the pg_dump archive into an empty database`,
    async run(context) {
      const tools = requireTools(context);
      if (context.results.get('pg-dump')?.status !== 'ok') throw new ScenarioSkipped('needs pg-dump');
      const database = `bench_${name.replaceAll('-', '_')}`;
      const url = await context.createDatabase(database);
      try {
        const args = ['--no-owner', '--no-privileges', '--exit-on-error', '-d', url, dumpPath(context)];
        const result = await runMeasuredProcess(
          tools.pgRestore,
          jobs > 1 ? ['-j', String(jobs), ...args] : args,
        );
        if (result.exitCode !== 0) throw processFailure('pg_restore', result);
        return {
          durationMs: result.durationMs,
          // With -j the work happens in forked workers, whose memory this does not include.
          peakRssBytes: jobs > 1 ? undefined : result.peakRssBytes,
          rows: context.source.totalRows,
          details: { jobs },
        };
      } finally {
        await context.dropDatabase(database);
      }
    },
  };
}

/** Baselines measured in the same run as devsnap, on the same server and data. */
export const baselineScenarios: readonly BenchScenario[] = [
  rawCopy,
  pgDump,
  pgDumpJ2,
  pgRestore('pg-restore', 1),
  pgRestore('pg-restore-j2', 2),
];
