import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DatabaseError, errorMessage, SnapshotIntegrityError } from '../errors.js';
import type { Manifest, ManifestTable } from '../manifest.js';
import { decodeParquetToCopyText } from '../parquet/parquet-decoder.js';
import type { ProgressReporter } from '../progress.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../schema/schema-model.js';
import type { VerifiedSnapshot } from './snapshot-reader.js';

export interface TableImportSummary {
  readonly table: string;
  readonly rows: number;
  readonly durationMs: number;
}

/**
 * Loads a verified snapshot into the connected database: pre-data DDL, COPY per table,
 * post-data (keys, indexes, foreign keys), sequences, then row counts checked against the
 * manifest. The caller owns the transaction or the throwaway database, so a failure here
 * never leaves the user's database half-loaded.
 */
export async function loadSnapshot(
  client: pg.Client,
  snapshot: VerifiedSnapshot,
  reporter: ProgressReporter,
): Promise<TableImportSummary[]> {
  const { manifest } = snapshot;
  reporter.report({ type: 'phase', phase: 'schema', detail: 'pre-data' });
  await runScript(client, snapshot.path(manifest.schema.preData.key), 'pre-data.sql');

  const summaries: TableImportSummary[] = [];
  for (const table of manifest.tables) summaries.push(await copyTable(client, snapshot, table, reporter));

  reporter.report({ type: 'phase', phase: 'schema', detail: 'post-data' });
  await runScript(client, snapshot.path(manifest.schema.postData.key), 'post-data.sql');
  reporter.report({ type: 'phase', phase: 'sequences' });
  await restoreSequences(client, manifest);
  reporter.report({ type: 'phase', phase: 'check', detail: 'row counts' });
  await checkRowCounts(client, manifest);
  return summaries;
}

async function runScript(client: pg.Client, path: string, name: string): Promise<void> {
  const sql = await readFile(path, 'utf8');
  try {
    await client.query(sql);
  } catch (error) {
    throw new DatabaseError(`The snapshot's ${name} failed on the target database: ${errorMessage(error)}`, {
      cause: error,
      hint: 'If the objects already exist, import with --reset-mode drop-tables or drop-database.',
    });
  }
}

async function copyTable(
  client: pg.Client,
  snapshot: VerifiedSnapshot,
  table: ManifestTable,
  reporter: ProgressReporter,
): Promise<TableImportSummary> {
  const name = `${table.schema}.${table.name}`;
  const started = performance.now();
  reporter.report({ type: 'table-start', table: name, estimatedRows: table.rows });
  const columnList = table.columns.map((column) => quoteIdent(column.name)).join(', ');
  for (const file of table.files) {
    const path = snapshot.path(file.key);
    try {
      await pipeline(
        decodeParquetToCopyText(path, table.columns),
        client.query(copyFrom(`COPY ${quoteQualified(table)} (${columnList}) FROM STDIN`)),
      );
    } catch (error) {
      if (error instanceof SnapshotIntegrityError) throw error;
      throw new DatabaseError(`Loading ${name} from ${path} failed: ${errorMessage(error)}`, {
        cause: error,
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
async function restoreSequences(client: pg.Client, manifest: Manifest): Promise<void> {
  for (const sequence of manifest.sequences) {
    const descending = sequence.increment.startsWith('-');
    const extreme = descending ? 'min' : 'max';
    const candidates = [
      ...sequence.feeds.map(
        (feed) => `(SELECT ${extreme}(${quoteIdent(feed.column)})::numeric FROM ${quoteQualified(feed)})`,
      ),
      sequence.lastValue === null ? 'NULL::numeric' : `${sequence.lastValue}::numeric`,
    ];
    const sql =
      `SELECT setval(${quoteLiteral(quoteQualified(sequence))}, COALESCE(v, ${sequence.start})::bigint, v IS NOT NULL) ` +
      `FROM (SELECT ${descending ? 'LEAST' : 'GREATEST'}(${candidates.join(', ')}) AS v) position`;
    try {
      await client.query(sql);
    } catch (error) {
      throw new DatabaseError(
        `Could not restore sequence ${sequence.schema}.${sequence.name}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}

async function checkRowCounts(client: pg.Client, manifest: Manifest): Promise<void> {
  const problems: string[] = [];
  for (const table of manifest.tables) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteQualified(table)}`);
    const actual = Number(rows[0]?.n ?? 0);
    if (actual !== table.rows)
      problems.push(`${table.schema}.${table.name}: ${actual} rows, manifest says ${table.rows}`);
  }
  if (problems.length) {
    throw new SnapshotIntegrityError(
      `Row counts after loading do not match the manifest:\n  ${problems.join('\n  ')}`,
    );
  }
}
