import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  type RDSDataClient,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { DatabaseError, errorMessage } from '../errors.js';
import { retryDataApiCall } from './data-api-retry.js';

export interface ExportedSnapshotTarget {
  readonly client: RDSDataClient;
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

/** A Data API transaction that holds an exported snapshot for other transactions to join. */
export interface HeldSnapshot {
  readonly transactionId: string;
  /** The `pg_export_snapshot()` id; valid only while the holding transaction is open. */
  readonly snapshot: string;
}

/**
 * Holds one database snapshot open across Lambda invocations. A Data API transaction outlives the
 * caller that began it (any caller with its id can use it), so the plan step begins a REPEATABLE READ
 * READ ONLY transaction and exports its snapshot; each worker joins it with `SET TRANSACTION
 * SNAPSHOT`, which only works while the holder is open. AWS ends a transaction after 3 minutes without
 * a call, so workers ping the holder while they run, and finalize ends it.
 *
 * Cost: while the holder is open, PostgreSQL keeps every row version the snapshot can see, so VACUUM
 * on the production database cannot reclaim rows deleted or updated during the run (bloat grows with
 * the run's length and the write rate); the holder also keeps one database connection.
 */
export class ExportedSnapshotHolder {
  constructor(private readonly target: ExportedSnapshotTarget) {}

  async begin(): Promise<HeldSnapshot> {
    const { client, resourceArn, secretArn, database } = this.target;
    // An auto-paused cluster answers the first calls with DatabaseResumingException: wait it out.
    const begun = await retryDataApiCall(() =>
      client.send(new BeginTransactionCommand({ resourceArn, secretArn, database })),
    );
    const transactionId = begun.transactionId;
    if (!transactionId) throw new DatabaseError('The Data API began a transaction without an id.');
    try {
      await this.execute(transactionId, 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await this.execute(transactionId, 'SELECT pg_catalog.pg_export_snapshot()');
      const snapshot = result.records?.[0]?.[0]?.stringValue;
      if (!snapshot) throw new DatabaseError('pg_export_snapshot() returned nothing.');
      return { transactionId, snapshot };
    } catch (error) {
      await this.end(transactionId);
      throw new DatabaseError(`Could not export a database snapshot: ${errorMessage(error)}`, {
        cause: error,
        hint: 'The Data API role needs rds-data:ExecuteStatement; the database must allow pg_export_snapshot().',
      });
    }
  }

  /**
   * Resets the holder's idle clock. Workers call this concurrently and a transaction runs one call at
   * a time, so a refused ping is fine: whichever ping got through reset the clock.
   */
  async ping(transactionId: string): Promise<boolean> {
    try {
      await this.execute(transactionId, 'SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Ends the holder (a rollback: it never wrote anything). A worker's ping may be running on it, which
   * makes the rollback fail, so it is tried again; if it never gets through, AWS ends the transaction
   * 3 minutes after the last call. Already gone is fine.
   */
  async end(transactionId: string): Promise<void> {
    const { client, resourceArn, secretArn } = this.target;
    for (let attempt = 1; attempt <= 10; attempt++) {
      try {
        await client.send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }));
        return;
      } catch (error) {
        // Gone already (ended, or expired): nothing to end.
        if (/not ?found|expired|does not exist/i.test(`${(error as Error).name} ${errorMessage(error)}`))
          return;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  private execute(transactionId: string, sql: string) {
    const { client, resourceArn, secretArn, database } = this.target;
    return retryDataApiCall(() =>
      client.send(new ExecuteStatementCommand({ resourceArn, secretArn, database, transactionId, sql })),
    );
  }
}
