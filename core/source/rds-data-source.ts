import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandOutput,
  RDSDataClient,
  type RDSDataClientConfig,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { DatabaseError, DevsnapError, errorMessage } from '../errors.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { loadSqlParser, replacePlaceholders } from '../sql/sql-parser.js';
import { decodeField, fieldText, toDataApiParameter, toNamedParameters } from './data-api-fields.js';
import { type RetryOptions, retryDataApiCall } from './data-api-retry.js';
import {
  type KeyPagingOptions,
  KeyPagingReader,
  type NamedParameters,
  ResultLimitError,
} from './key-paging-reader.js';
import type { Row, SqlParameter } from './queryable.js';
import { ReadOnlyGuard } from './read-only-guard.js';
import { SESSION_SETTINGS, type Source, type TextValue } from './source.js';

export interface RdsDataSourceOptions {
  /** ARN of the Aurora cluster. */
  readonly resourceArn: string;
  /** ARN of the Secrets Manager secret with the database credentials. */
  readonly secretArn: string;
  readonly database: string;
  /** A Data-API-compatible endpoint (tests); defaults to AWS's. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Defaults to the SDK's credential chain. */
  readonly credentials?: RDSDataClientConfig['credentials'];
  /** A ready client (wins over endpoint, region and credentials). */
  readonly client?: RDSDataClient;
  /**
   * After this long without a call the source sends a no-op so the transaction survives: AWS ends
   * a transaction after 3 minutes without a call. 0 turns it off.
   */
  readonly keepAliveMs?: number;
  /** Backoff for a paused cluster (DatabaseResumingException), throttling and brief unavailability. */
  readonly retry?: RetryOptions;
  readonly paging?: KeyPagingOptions;
  /** Per statement, below the API's 45 s per call so the database stops a long read and says why. */
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  /** Receives notices about retries. */
  readonly reporter?: ProgressReporter;
  /**
   * A snapshot id from `pg_export_snapshot()` in another open transaction: this source then reads
   * exactly what that transaction sees, so parallel workers export one consistent snapshot.
   */
  readonly joinSnapshot?: string;
}

/**
 * Reads Aurora PostgreSQL through the RDS Data API (no VPC access needed), inside one Data API
 * transaction: REPEATABLE READ READ ONLY, so every table is read at one point in time, kept alive
 * across idle gaps. Values arrive as PostgreSQL text output, exactly as PgSource's COPY writes
 * them, read in key-ordered pages that respect the API's 1 MiB response and 64 KB row limits
 * (see KeyPagingReader). Calls are made one at a time, as a Data API transaction requires.
 */
export class RdsDataSource implements Source {
  serverVersion = 'unknown';
  private transactionId: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly reporter: ProgressReporter;
  private readonly guard = new ReadOnlyGuard((sql, params) => this.rows(sql, params));

  private constructor(
    private readonly client: RDSDataClient,
    private readonly options: RdsDataSourceOptions,
  ) {
    this.reporter = options.reporter ?? silentReporter;
  }

  static async connect(options: RdsDataSourceOptions): Promise<RdsDataSource> {
    await loadSqlParser();
    const client =
      options.client ??
      new RDSDataClient({
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    const source = new RdsDataSource(client, options);
    try {
      await source.begin();
    } catch (error) {
      await source.close();
      throw error;
    }
    return source;
  }

  checkRead(sql: string): Promise<void> {
    return this.guard.check(sql);
  }

  async query<R extends object = Row>(sql: string, params: readonly SqlParameter[] = []): Promise<R[]> {
    await this.guard.check(sql);
    return this.rows<R>(sql, params);
  }

  /** Runs a statement without the guard: the guard's own catalog reads, and query() after it. */
  private async rows<R extends object = Row>(sql: string, params: readonly SqlParameter[]): Promise<R[]> {
    const named = toNamedParameters(sql, params);
    const result = await this.execute(named.sql, named.params, true);
    const columns = result.columnMetadata ?? [];
    return (result.records ?? []).map(
      (record) =>
        Object.fromEntries(
          record.map((field, i) => [
            columns[i]?.label ?? columns[i]?.name ?? `?column${i}?`,
            decodeField(field, columns[i]),
          ]),
        ) as R,
    );
  }

  async *streamRows(
    select: string,
    options: { batchRows?: number; params?: readonly SqlParameter[] } = {},
  ): AsyncIterable<TextValue[][]> {
    await this.guard.check(select);
    const named = toNamedParameters(select, options.params ?? []);
    const batchRows = options.batchRows ?? 10_000;
    const reader = new KeyPagingReader(
      {
        rows: async (sql, params) => {
          // The reader's own statements around the checked SELECT, checked too (with $n for :name).
          await this.guard.check(replacePlaceholders(sql, 'named', () => '$1'));
          const result = await this.execute(sql, params, false);
          return (result.records ?? []).map((record) => record.map(fieldText));
        },
      },
      this.options.paging,
    );
    for await (const page of reader.read(named.sql, named.params)) {
      for (let start = 0; start < page.length; start += batchRows) yield page.slice(start, start + batchRows);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.keepAliveTimer);
    await this.queue.catch(() => {});
    if (this.transactionId !== undefined) {
      const { resourceArn, secretArn } = this.options;
      await this.client
        .send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId: this.transactionId }))
        .catch(() => {});
      this.transactionId = undefined;
    }
    if (!this.options.client) this.client.destroy();
  }

  private async begin(): Promise<void> {
    const { resourceArn, secretArn, database } = this.options;
    const begun = await this.serialized(() =>
      this.withRetries(() =>
        this.client.send(new BeginTransactionCommand({ resourceArn, secretArn, database })),
      ),
    ).catch((error: unknown) => {
      throw this.failure('BEGIN', error);
    });
    this.transactionId = begun.transactionId;
    // Must come before any query of the transaction. A fixed statement of ours, not a read, so
    // it bypasses the read-only guard; READ ONLY then makes PostgreSQL refuse any write as well.
    await this.execute('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY', {}, false);
    const { joinSnapshot } = this.options;
    if (joinSnapshot !== undefined) {
      if (!/^[0-9A-Fa-f-]+$/.test(joinSnapshot)) {
        throw new DatabaseError(`"${joinSnapshot}" is not a snapshot id from pg_export_snapshot().`);
      }
      await this.execute(`SET TRANSACTION SNAPSHOT '${joinSnapshot}'`, {}, false);
    }
    const settings: Record<string, string> = {
      ...Object.fromEntries(Object.entries(SESSION_SETTINGS).filter(([name]) => name !== 'client_encoding')),
      application_name: 'devsnap-export',
      statement_timeout: String(this.options.statementTimeoutMs ?? 40_000),
      lock_timeout: String(this.options.lockTimeoutMs ?? 10_000),
    };
    const names = Object.keys(settings);
    // A fixed statement of ours, like the SETs above: the guard refuses set_config of timeouts.
    const [row] = await this.rows<{ server_version: string }>(
      `SELECT ${names.map((_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')},
        pg_catalog.current_setting('server_version') AS server_version`,
      names.flatMap((name) => [name, settings[name] ?? '']),
    );
    this.serverVersion = row?.server_version ?? 'unknown';
  }

  private async execute(
    sql: string,
    params: NamedParameters,
    includeResultMetadata: boolean,
  ): Promise<ExecuteStatementCommandOutput> {
    if (this.closed || this.transactionId === undefined) {
      // Without the transaction the statement would read outside the export's snapshot.
      throw new DatabaseError('The Data API source is closed; nothing more can be read through it.');
    }
    const { resourceArn, secretArn, database } = this.options;
    const command = new ExecuteStatementCommand({
      resourceArn,
      secretArn,
      database,
      transactionId: this.transactionId,
      sql,
      parameters: Object.entries(params).map(([name, value]) => toDataApiParameter(name, value)),
      includeResultMetadata,
      // Exact values: int8 and numeric as text, never rounded through a JavaScript number.
      resultSetOptions: { longReturnType: 'STRING', decimalReturnType: 'STRING' },
    });
    try {
      return await this.serialized(() => this.withRetries(() => this.client.send(command)));
    } catch (error) {
      throw this.failure(sql, error);
    }
  }

  /** One call at a time on the transaction; each call restarts the keep-alive clock. */
  private serialized<T>(call: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      clearTimeout(this.keepAliveTimer);
      return call();
    });
    this.queue = run.then(
      () => this.armKeepAlive(),
      () => this.armKeepAlive(),
    );
    return run;
  }

  private armKeepAlive(): void {
    clearTimeout(this.keepAliveTimer);
    const interval = this.options.keepAliveMs ?? 60_000;
    if (this.closed || this.transactionId === undefined || interval <= 0) return;
    this.keepAliveTimer = setTimeout(() => {
      // A failure here surfaces on the next real call, which meets the same dead transaction.
      this.execute('SELECT 1', {}, false).catch(() => {});
    }, interval);
    this.keepAliveTimer.unref();
  }

  private withRetries<T>(call: () => Promise<T>): Promise<T> {
    return retryDataApiCall(call, this.options.retry, (message) =>
      this.reporter.report({ type: 'notice', message }),
    );
  }

  private failure(sql: string, error: unknown): DevsnapError {
    if (error instanceof DevsnapError) return error;
    const name = (error as { name?: string }).name ?? '';
    const message = errorMessage(error);
    const where = `${this.options.resourceArn} (database ${this.options.database})`;
    const statement = `Statement: ${sql.replace(/\s+/g, ' ').slice(0, 300)}`;
    if (/more than the allowed response size/i.test(message)) {
      return new ResultLimitError(
        'response',
        `The Data API refused a response over its size limit: ${message}`,
        {
          cause: error,
        },
      );
    }
    if (/packet for query is too large/i.test(message)) {
      return new ResultLimitError('row', `The Data API refused a row over its size limit: ${message}`, {
        cause: error,
      });
    }
    if (/transaction .* is not found/i.test(message)) {
      return new DatabaseError(
        `The Data API transaction of this export on ${where} has ended: it expired after 3 minutes without a call, or an earlier error aborted it.`,
        {
          cause: error,
          hint: 'Run the export again; if the pause was in devsnap itself, keep keepAliveMs well under 3 minutes.',
        },
      );
    }
    if (name === 'StatementTimeoutException') {
      return new DatabaseError(
        `A read on ${where} ran longer than the Data API allows one call (45 s) and was cancelled; the export's transaction cannot continue.`,
        {
          cause: error,
          hint: `Check that the table has a primary key (pages follow it), or export with the pg source. ${statement}`,
        },
      );
    }
    if (name === 'DatabaseResumingException') {
      return new DatabaseError(
        `The Aurora cluster ${this.options.resourceArn} is still resuming; gave up waiting.`,
        {
          cause: error,
          hint: 'Run the export again in a minute, or raise retry.attempts.',
        },
      );
    }
    if (name === 'UnsupportedResultException') {
      return new DatabaseError(`The Data API cannot return a column of this read: ${message}`, {
        cause: error,
        hint: `Cast the column to text in the query. ${statement}`,
      });
    }
    return new DatabaseError(`The source database ${where} failed a read through the Data API: ${message}`, {
      cause: error,
      hint: statement,
    });
  }
}
