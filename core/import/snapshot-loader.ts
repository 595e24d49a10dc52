import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DatabaseError, errorMessage, SnapshotIntegrityError } from '../errors.js';
import type { Manifest, ManifestColumn, ManifestTable } from '../manifest.js';
import { decodeParquetToCopyText } from '../parquet/parquet-decoder.js';
import type { ProgressReporter } from '../progress.js';
import { qualifiedName, quoteIdent, quoteQualified } from '../schema/schema-model.js';
import { serverFailureHint } from '../source/server-failure-hint.js';
import { fillFactories, type TableFactories } from './factory-fill.js';
import { relationExists } from './pg-admin.js';
import { runPostData } from './post-data-runner.js';
import { checkRelations } from './relation-check.js';
import { matchColumns, runSchemaCommand } from './schema-command.js';
import { runSchemaScript } from './schema-script-runner.js';
import type { VerifiedSnapshot } from './snapshot-reader.js';

export interface TableImportSummary {
  readonly table: string;
  readonly rows: number;
  readonly durationMs: number;
}

export interface LoadOptions {
  /** The team builds the schema with this command instead of the snapshot's DDL (drop-database only). */
  readonly schemaCommand?: string;
  /** With schemaCommand: load the columns both sides have instead of refusing one-sided columns. */
  readonly allowMissingColumns?: boolean;
  /** Tables to fill with generated rows after the sampled ones. */
  readonly factories?: TableFactories;
  /**
   * Opens another connection to the same database, for COPY in parallel across tables. Only for a
   * database nobody else sees yet (drop-database): the other modes load in one transaction.
   */
  readonly connect?: () => Promise<pg.Client>;
  /** Tables copied at once when `connect` is given. */
  readonly jobs?: number;
}

/**
 * Loads a verified snapshot into the connected database: pre-data DDL (or the team's schema
 * command), COPY per table, post-data (keys, indexes, foreign keys), sequences, then row counts
 * checked against the manifest. The caller owns the transaction or the throwaway database, so a
 * failure here never leaves the user's database half-loaded.
 */
export async function loadSnapshot(
  client: pg.Client,
  url: string,
  snapshot: VerifiedSnapshot,
  reporter: ProgressReporter,
  options: LoadOptions = {},
): Promise<TableImportSummary[]> {
  const { manifest } = snapshot;
  let columns = new Map<ManifestTable, readonly ManifestColumn[]>(manifest.tables.map((t) => [t, t.columns]));
  let order: readonly ManifestTable[] = manifest.tables;
  if (options.schemaCommand) {
    await runSchemaCommand(options.schemaCommand, url, reporter);
    columns = await matchColumns(client, manifest, options.allowMissingColumns ?? false, reporter);
    order = await loadOrder(client, manifest.tables);
  } else {
    reporter.report({ type: 'phase', phase: 'schema', detail: 'pre-data' });
    await runSchemaScript(client, snapshot.schema.preData);
  }

  const copy = (connection: pg.Client, table: ManifestTable) =>
    copyTable(connection, snapshot, table, columns.get(table) ?? table.columns, reporter);
  // A team schema built by --schema-command may enforce foreign keys during the load, so its
  // tables go in order; the snapshot's own schema has no keys until post-data.
  const parallel = options.connect && !options.schemaCommand ? Math.max(1, options.jobs ?? 1) : 1;
  const summaries =
    parallel > 1 && options.connect
      ? await copyInParallel(client, options.connect, parallel, order, copy)
      : await copyInOrder(client, order, copy);
  let generated = new Map<string, number>();
  if (options.factories && options.factories.size > 0) {
    // Defaults drawn from sequences must start past the sampled keys.
    await restoreSequences(client, manifest, reporter);
    generated = await fillFactories(client, manifest, options.factories, reporter);
  }

  if (!options.schemaCommand) {
    reporter.report({ type: 'phase', phase: 'schema', detail: 'post-data' });
    // Keys, indexes and foreign keys over the copy's connections (drop-database), as pg_restore -j.
    await runPostData(client, snapshot.schema.postData, { connect: options.connect, jobs: parallel });
  }
  reporter.report({ type: 'phase', phase: 'sequences' });
  await restoreSequences(client, manifest, reporter);
  reporter.report({ type: 'phase', phase: 'check', detail: 'row counts' });
  await checkRowCounts(client, manifest, generated);
  if ((manifest.relations ?? []).length > 0) {
    reporter.report({ type: 'phase', phase: 'check', detail: 'keys the database does not declare' });
    await checkRelations(client, manifest);
  }
  return summaries.map((summary) => ({
    ...summary,
    rows: summary.rows + (generated.get(summary.table) ?? 0),
  }));
}

async function copyInOrder(
  client: pg.Client,
  tables: readonly ManifestTable[],
  copy: (connection: pg.Client, table: ManifestTable) => Promise<TableImportSummary>,
): Promise<TableImportSummary[]> {
  const summaries: TableImportSummary[] = [];
  for (const table of tables) summaries.push(await copy(client, table));
  return summaries;
}

/** Largest tables first over `jobs` connections, so the last one to finish is a small one. */
async function copyInParallel(
  client: pg.Client,
  connect: () => Promise<pg.Client>,
  jobs: number,
  tables: readonly ManifestTable[],
  copy: (connection: pg.Client, table: ManifestTable) => Promise<TableImportSummary>,
): Promise<TableImportSummary[]> {
  const bytes = (table: ManifestTable) => table.files.reduce((sum, file) => sum + file.bytes, 0);
  const queue = [...tables].sort((a, b) => bytes(b) - bytes(a));
  const extra = await Promise.all(Array.from({ length: Math.min(jobs, tables.length) - 1 }, connect));
  const done = new Map<ManifestTable, TableImportSummary>();
  try {
    await Promise.all(
      [client, ...extra].map(async (connection) => {
        for (let table = queue.shift(); table; table = queue.shift())
          done.set(table, await copy(connection, table));
      }),
    );
  } finally {
    await Promise.all(extra.map((connection) => connection.end().catch(() => {})));
  }
  return tables.map((table) => done.get(table)!);
}

/**
 * A schema built by the team's command already has its foreign keys and triggers while data is
 * loaded. As a superuser the session skips them (session_replication_role = replica, the way
 * pg_restore --disable-triggers does); otherwise parents are loaded before their children.
 */
async function loadOrder(
  client: pg.Client,
  tables: readonly ManifestTable[],
): Promise<readonly ManifestTable[]> {
  try {
    await client.query('SET session_replication_role = replica');
    return tables;
  } catch {
    const { rows } = await client.query<{ child: string; parent: string }>(
      `SELECT format('%s.%s', cn.nspname, c.relname) AS child, format('%s.%s', pn.nspname, p.relname) AS parent
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
       WHERE k.contype = 'f' AND k.conrelid <> k.confrelid`,
    );
    const remaining = new Set(tables);
    const ordered: ManifestTable[] = [];
    while (remaining.size > 0) {
      const ready = [...remaining].filter((table) =>
        rows.every(
          (fk) =>
            fk.child !== qualifiedName(table) ||
            ![...remaining].some((other) => other !== table && qualifiedName(other) === fk.parent),
        ),
      );
      // A cycle of foreign keys: load the rest as they come and let the constraint name the problem.
      for (const table of ready.length > 0 ? ready : [...remaining]) {
        ordered.push(table);
        remaining.delete(table);
      }
    }
    return ordered;
  }
}

async function copyTable(
  client: pg.Client,
  snapshot: VerifiedSnapshot,
  table: ManifestTable,
  columns: readonly ManifestColumn[],
  reporter: ProgressReporter,
): Promise<TableImportSummary> {
  const name = qualifiedName(table);
  const started = performance.now();
  reporter.report({ type: 'table-start', table: name, estimatedRows: table.rows });
  const columnList = columns.map((column) => quoteIdent(column.name)).join(', ');
  let rows = 0;
  // COPY text ends every row with a newline (newlines inside values are escaped), so counting
  // them counts rows as they go to the server.
  const counted = async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) rows++;
      reporter.report({ type: 'table-progress', table: name, rows });
      yield chunk;
    }
  };
  for (const file of table.files) {
    const path = snapshot.path(file.key);
    try {
      await pipeline(
        counted(decodeParquetToCopyText(path, columns)),
        client.query(copyFrom(`COPY ${quoteQualified(table)} (${columnList}) FROM STDIN`)),
      );
    } catch (error) {
      if (error instanceof SnapshotIntegrityError) throw error;
      throw new DatabaseError(`Loading ${name} from ${path} failed: ${errorMessage(error)}`, {
        cause: error,
        hint: serverFailureHint(error),
      });
    }
  }
  const durationMs = Math.round(performance.now() - started);
  reporter.report({ type: 'table-done', table: name, rows: table.rows, bytes: 0, durationMs });
  return { table: name, rows: table.rows, durationMs };
}

/**
 * Sequences that number key columns move past the largest key loaded (and never behind the
 * source's position, so ids keep production's numbering); other sequences get the source's
 * position back.
 */
async function restoreSequences(
  client: pg.Client,
  manifest: Manifest,
  reporter: ProgressReporter,
): Promise<void> {
  for (const sequence of manifest.sequences) {
    if (!(await relationExists(client, sequence))) {
      // Only possible with --schema-command: the team's schema has no such sequence.
      reporter.report({
        type: 'notice',
        message: `Sequence ${qualifiedName(sequence)} is not in the schema; not restored.`,
      });
      continue;
    }
    const descending = sequence.increment.startsWith('-');
    const extreme = descending ? 'min' : 'max';
    // Names are quoted identifiers and the manifest's numbers travel as parameters ($1–$3): a
    // manifest from a store is not trusted, and none of its text becomes SQL.
    const candidates = [
      ...sequence.feeds.map(
        (feed) => `(SELECT ${extreme}(${quoteIdent(feed.column)})::numeric FROM ${quoteQualified(feed)})`,
      ),
      '$3::numeric',
    ];
    const sql = {
      text:
        'SELECT setval($1::regclass, COALESCE(v, $2::numeric)::bigint, v IS NOT NULL) ' +
        `FROM (SELECT ${descending ? 'LEAST' : 'GREATEST'}(${candidates.join(', ')}) AS v) position`,
      values: [quoteQualified(sequence), sequence.start, sequence.lastValue],
    };
    try {
      await client.query(sql);
    } catch (error) {
      throw new DatabaseError(
        `Could not restore sequence ${qualifiedName(sequence)}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}

async function checkRowCounts(
  client: pg.Client,
  manifest: Manifest,
  generated: ReadonlyMap<string, number>,
): Promise<void> {
  const problems: string[] = [];
  for (const table of manifest.tables) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteQualified(table)}`);
    const actual = Number(rows[0]?.n ?? 0);
    const name = qualifiedName(table);
    const extra = generated.get(name) ?? 0;
    if (actual !== table.rows + extra) {
      problems.push(
        `${name}: ${actual} rows, expected ${table.rows} from the manifest${extra ? ` + ${extra} generated` : ''}`,
      );
    }
  }
  if (problems.length) {
    throw new SnapshotIntegrityError(
      `Row counts after loading do not match the manifest:\n  ${problems.join('\n  ')}`,
    );
  }
}
