import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import { parseCopyText } from '../copy/copy-text-format.js';
import { DatabaseError, errorMessage } from '../errors.js';
import { loadSqlParser } from '../sql/sql-parser.js';
import { connectionError, connectPg, redactUrl } from './pg-connection.js';
import type { Row, SqlParameter } from './queryable.js';
import { ReadOnlyGuard } from './read-only-guard.js';
import type { Source, TextValue } from './source.js';

export interface PgSourceOptions {
  /** Per statement; a runaway query on production is cancelled rather than left running. */
  readonly statementTimeoutMs?: number;
  /** devsnap takes no locks of its own beyond ACCESS SHARE; never queue behind a migration for long. */
  readonly lockTimeoutMs?: number;
  /** Read as of this exported snapshot (another open source's exportSnapshot()) instead of a new one. */
  readonly snapshot?: string;
}

const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(?:-[0-9]+)?$/i;

/**
 * A direct `pg` connection to the source, holding one REPEATABLE READ READ ONLY transaction for its
 * whole life so every table is read at one point in time. Reads stream through COPY TO STDOUT,
 * which is allowed in a read-only transaction and far faster than row-by-row fetching.
 */
export class PgSource implements Source {
  private readonly guard = new ReadOnlyGuard(async (sql, params) => {
    try {
      return (await this.client.query(sql, [...params])).rows;
    } catch (error) {
      throw this.queryError(sql, error);
    }
  });

  private constructor(
    private readonly client: pg.Client,
    private readonly url: string,
    readonly serverVersion: string,
  ) {}

  static async connect(url: string, options: PgSourceOptions = {}): Promise<PgSource> {
    await loadSqlParser();
    const client = await connectPg(url, {
      applicationName: 'devsnap-export',
      statementTimeoutMs: options.statementTimeoutMs ?? 15 * 60_000,
      lockTimeoutMs: options.lockTimeoutMs ?? 10_000,
    });
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (options.snapshot !== undefined) {
        if (!SNAPSHOT_ID.test(options.snapshot)) throw new Error(`Not a snapshot id: ${options.snapshot}`);
        await client.query(`SET TRANSACTION SNAPSHOT '${options.snapshot}'`);
      }
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      return new PgSource(client, url, rows[0]?.server_version ?? 'unknown');
    } catch (error) {
      await client.end().catch(() => {});
      throw connectionError(url, error);
    }
  }

  /**
   * Exports this source's snapshot (`pg_export_snapshot()`): other connections that join it with
   * `PgSource.connect(url, { snapshot })` read exactly what this one reads, for as long as it is open.
   */
  async exportSnapshot(): Promise<string> {
    const [row] = await this.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    if (!row) throw new DatabaseError('pg_export_snapshot() returned nothing.');
    return row.id;
  }

  checkRead(sql: string): Promise<void> {
    return this.guard.check(sql);
  }

  async query<R extends object = Row>(sql: string, params: readonly SqlParameter[] = []): Promise<R[]> {
    await this.guard.check(sql);
    try {
      const result = await this.client.query(sql, params as SqlParameter[]);
      return result.rows as R[];
    } catch (error) {
      throw this.queryError(sql, error);
    }
  }

  async *streamRows(
    select: string,
    options: { batchRows?: number; params?: readonly SqlParameter[] } = {},
  ): AsyncIterable<TextValue[][]> {
    await this.guard.check(select);
    if (options.params && options.params.length > 0) {
      yield* this.streamWithParams(select, options.params, options.batchRows ?? 10_000);
      return;
    }
    const stream = this.client.query(copyTo(`COPY (${select}) TO STDOUT`));
    try {
      yield* parseCopyText(stream, options.batchRows ?? 10_000);
    } catch (error) {
      throw this.queryError(select, error);
    } finally {
      // A consumer that stops early must not leave COPY running on the connection.
      if (!stream.destroyed) stream.destroy();
    }
  }

  /** COPY takes no parameters: a cursor reads the rows instead, as raw text output, batch by batch. */
  private async *streamWithParams(
    select: string,
    params: readonly SqlParameter[],
    batchRows: number,
  ): AsyncIterable<TextValue[][]> {
    const cursor = this.client.query(
      new Cursor<TextValue[]>(select, [...params], { rowMode: 'array', types: RAW_TEXT_TYPES }),
    );
    try {
      for (;;) {
        const rows = await cursor.read(batchRows);
        if (rows.length === 0) break;
        yield rows;
      }
    } catch (error) {
      throw this.queryError(select, error);
    } finally {
      await cursor.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => {});
    await this.client.end().catch(() => {});
  }

  private queryError(sql: string, error: unknown): DatabaseError {
    if (error instanceof DatabaseError) return error;
    return new DatabaseError(
      `The source database (${redactUrl(this.url)}) failed a read: ${errorMessage(error)}`,
      {
        cause: error,
        hint: `Statement: ${sql.replace(/\s+/g, ' ').slice(0, 300)}`,
      },
    );
  }
}

/** Leaves every value as the server sent it: PostgreSQL's text output format, like COPY's. */
const RAW_TEXT_TYPES = { getTypeParser: () => (value: string) => value };
