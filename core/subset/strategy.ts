import type { TableInfo } from '../schema/schema-model.js';
import type { SqlParameter } from '../source/queryable.js';

/**
 * Picks rows of one table. Built-ins live in strategies/; a team can write its own by
 * implementing this interface. The engine unions the rows of a table's strategies (without
 * duplicates) and then applies the foreign-key policies, so a strategy never has to think
 * about referential integrity.
 */
export interface Strategy {
  /** Unique per table; shown in the plan and recorded in the manifest with its row count. */
  readonly name: string;
  /** Short human description for `devsnap plan`, e.g. `latest 500 by rental_date`. */
  describe(): string;
  /** Problems with this strategy for this table (unknown columns, …), listed with every other config problem. */
  validate?(table: TableInfo): string[];
  /** The rows it picks: a query over the table, or rows related to another table's selection. */
  rows(table: TableInfo): StrategyRows;
}

export type StrategyRows =
  /** No rows (the table is created empty). */
  | { readonly kind: 'none' }
  /**
   * Rows of the table aliased `t`: `SELECT … FROM <table> t <sample> WHERE <where> ORDER BY <orderBy> LIMIT <limit>`.
   * `$1…$n` in `where` refer to `params`. The engine adds the row's key to `orderBy` so a LIMIT
   * picks the same rows each time. Without where, sample and limit it means every row, and the
   * table is then exported without a key set. A limit picks among the rows whose restrict keys
   * to parents decided earlier point at exported rows (django-devdata's order: restrict, then
   * order and slice).
   */
  | {
      readonly kind: 'query';
      readonly where?: string;
      readonly params?: readonly SqlParameter[];
      /**
       * A condition that only speeds a limited query up: the first `limit` rows by `orderBy` are
       * expected inside it (a hash range sized from the row estimate). The engine drops it and
       * asks again when fewer than `limit` rows inside it pass, so it never changes which rows win.
       */
      readonly narrow?: string;
      readonly sample?: string;
      readonly orderBy?: string;
      readonly limit?: number;
      /** Estimated share of the table (0…1) or row count, for the plan when the engine cannot tell. */
      readonly estimate?: { readonly rows: number } | { readonly fraction: number };
    }
  /**
   * Rows related to what another table's strategies selected: its parents through a foreign key
   * (`referenced-by`: rows the other table's selected rows point at) or its children
   * (`referencing`: rows that point at the other table's selected rows).
   */
  | {
      readonly kind: 'related';
      readonly direction: 'referenced-by' | 'referencing';
      /** `schema.table` of the other table. */
      readonly table: string;
      /** Foreign key name when there is more than one between the two tables. */
      readonly foreignKey?: string;
    };

export type ForeignKeyPolicy = 'restrict' | 'include-parents' | 'nullify';
export const FOREIGN_KEY_POLICIES: readonly ForeignKeyPolicy[] = ['restrict', 'include-parents', 'nullify'];
