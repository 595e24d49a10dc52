import type { ResolvedConfig } from '../config/resolve-config.js';
import { DevsnapError } from '../errors.js';
import type { ProgressReporter } from '../progress.js';
import {
  type ColumnInfo,
  qualifiedName,
  quoteIdent,
  quoteQualified,
  type SchemaModel,
  type TableInfo,
} from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import type { ForeignKeyPolicy } from './strategy.js';

export interface TableSelectionStats {
  /** Rows each strategy picked (before foreign-key policies). */
  readonly strategies: readonly { readonly name: string; readonly rows: number }[];
  /** What each foreign-key policy did to this table's rows. */
  readonly policies: readonly {
    readonly foreignKey: string;
    readonly policy: ForeignKeyPolicy;
    readonly dropped: number;
    readonly nulled: number;
    readonly included: number;
  }[];
}

/** The rows chosen for every exported table, readable table by table in the export's one snapshot. */
export interface RowSelection {
  /** Streams a table's selected rows, `columns` in order, as text values. */
  stream(table: TableInfo, columns: readonly ColumnInfo[]): AsyncIterable<TextValue[][]>;
  stats(table: TableInfo): TableSelectionStats;
}

/**
 * Chooses the rows to export. Until the subsetting engine lands this supports the all-rows
 * strategy only and refuses other configs rather than export something else.
 */
export async function selectRows(
  source: Source,
  _model: SchemaModel,
  config: ResolvedConfig,
  _reporter: ProgressReporter,
): Promise<RowSelection> {
  for (const [name, resolved] of config.tables) {
    for (const strategy of resolved.strategies) {
      const rows = strategy.rows(resolved.table);
      if (rows.kind !== 'query' || rows.where || rows.limit !== undefined || rows.sample) {
        throw new DevsnapError(
          `Strategy "${strategy.name}" on ${name} is not supported yet; only all rows are.`,
        );
      }
    }
  }
  const counts = new Map<string, number>();
  return {
    async *stream(table, columns) {
      // ONLY keeps rows of legacy inheritance children out of the parent's file; a partitioned
      // parent has no rows of its own, so it is read whole (its partitions are not exported apart).
      const only = table.kind === 'partitioned' ? '' : 'ONLY ';
      const select = `SELECT ${columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${only}${quoteQualified(table)}`;
      let rows = 0;
      for await (const batch of source.streamRows(select)) {
        rows += batch.length;
        yield batch;
      }
      counts.set(qualifiedName(table), rows);
    },
    stats(table) {
      const resolved = config.tables.get(qualifiedName(table));
      const rows = counts.get(qualifiedName(table)) ?? 0;
      return { strategies: (resolved?.strategies ?? []).map((s) => ({ name: s.name, rows })), policies: [] };
    },
  };
}
