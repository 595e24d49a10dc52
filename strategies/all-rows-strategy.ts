import { quoteIdent, quoteQualified, type TableInfo } from '../core/schema/schema-model.js';

/** Every row of the table: devsnap's default strategy until a config says otherwise. */
export const allRowsStrategy = {
  name: 'all-rows',
  /** The SELECT that reads the table's exported columns. */
  select(table: TableInfo, columns: readonly string[]): string {
    // ONLY keeps rows of legacy inheritance children out of the parent's file; a partitioned
    // parent has no rows of its own, so it is read whole (its partitions are not exported apart).
    const only = table.kind === 'partitioned' ? '' : 'ONLY ';
    return `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${only}${quoteQualified(table)}`;
  },
} as const;
