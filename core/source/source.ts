import type { Queryable, SqlParameter } from './queryable.js';

/** One column value in PostgreSQL text output format (see SESSION_SETTINGS); null is SQL NULL. */
export type TextValue = string | null;

/**
 * A read-only view of one consistent snapshot of a source database.
 * Implementations: PgSource (direct connection) and RdsDataSource (the RDS Data API); every
 * statement passes their ReadOnlyGuard first.
 */
export interface Source extends Queryable {
  /** e.g. "PostgreSQL 15.18" */
  readonly serverVersion: string;
  /**
   * Streams the rows of a SELECT as text values, in batches of about `batchRows` rows.
   * Values use the text output format fixed by SESSION_SETTINGS. `$1…$n` in the SELECT refer to
   * `params` (scalars only: a key batch travels as one text value cast to an array, since the
   * RDS Data API has no array parameters).
   */
  streamRows(
    select: string,
    options?: { batchRows?: number; params?: readonly SqlParameter[] },
  ): AsyncIterable<TextValue[][]>;
  /**
   * Refuses (ReadOnlyViolationError, with the reason) a statement `query` and `streamRows` would
   * refuse, without running it: anything but one read, a volatile or unknown function, a view.
   */
  checkRead(sql: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Session settings that fix the text format of every value devsnap reads and writes, so the
 * Parquet codec and COPY see one format whatever the server's defaults.
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  TimeZone: 'UTC',
  bytea_output: 'hex',
  extra_float_digits: '1',
  client_encoding: 'UTF8',
  standard_conforming_strings: 'on',
});
