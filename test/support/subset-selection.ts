import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { resolveSourceConfig } from '../../core/config/resolve-config.js';
import { silentReporter } from '../../core/progress.js';
import { PostgresIntrospector } from '../../core/schema/postgres-introspector.js';
import { qualifiedName, type TableInfo } from '../../core/schema/schema-model.js';
import { PgSource } from '../../core/source/pg-source.js';
import type { TextValue } from '../../core/source/source.js';
import { type RowSelection, selectRows, type TableSelectionStats } from '../../core/subset/row-selection.js';

export interface Subset {
  /** Selected rows per `schema.table`, every non-generated column, sorted by their text. */
  readonly rows: Record<string, TextValue[][]>;
  readonly stats: Record<string, TableSelectionStats>;
}

/** Runs the subsetting engine over a database and reads every selected row, in one snapshot. */
export async function subsetOf(url: string, config: DevsnapConfig): Promise<Subset> {
  return withSelection(url, config, async (selection, tables) => {
    const rows: Record<string, TextValue[][]> = {};
    const stats: Record<string, TableSelectionStats> = {};
    for (const table of tables) {
      rows[qualifiedName(table)] = await readAll(selection, table);
      stats[qualifiedName(table)] = selection.stats(table);
    }
    return { rows, stats };
  });
}

/** Opens a source, selects rows with the config, and hands the selection to `use`. */
export async function withSelection<T>(
  url: string,
  config: DevsnapConfig,
  use: (selection: RowSelection, tables: readonly TableInfo[], source: PgSource) => Promise<T>,
): Promise<T> {
  const source = await PgSource.connect(url);
  try {
    const model = await new PostgresIntrospector(source).introspect();
    const resolved = await resolveSourceConfig(source, config, model);
    const selection = await selectRows(source, model, resolved, silentReporter);
    return await use(
      selection,
      [...resolved.tables.values()].map((t) => t.table),
      source,
    );
  } finally {
    await source.close();
  }
}

export async function readAll(
  selection: RowSelection,
  table: TableInfo,
  columns = table.columns.filter((c) => c.generatedExpression === null),
): Promise<TextValue[][]> {
  const rows: TextValue[][] = [];
  for await (const batch of selection.stream(table, columns)) rows.push(...batch);
  return rows.sort(compareRows);
}

/** Orders rows by their values, numbers numerically, NULL first. */
export function compareRows(a: readonly TextValue[], b: readonly TextValue[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    const nx = Number(x);
    const ny = Number(y);
    if (x.trim() !== '' && y.trim() !== '' && Number.isFinite(nx) && Number.isFinite(ny) && nx !== ny)
      return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The first column of every row, as numbers (the ids of a table whose first column is its key). */
export const ids = (rows: readonly TextValue[][] | undefined): number[] =>
  (rows ?? []).map((row) => Number(row[0]));
