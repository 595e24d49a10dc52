import { type ColumnInfo, quoteIdent, quoteQualified, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';

/**
 * Reads up to `rows` rows of some columns of a table, for the classifier. Large tables are read
 * through TABLESAMPLE so the sample spans the table rather than its first pages; small ones by LIMIT.
 */
export async function sampleColumnValues(
  source: Source,
  table: TableInfo,
  columns: readonly ColumnInfo[],
  rows: number,
): Promise<Map<string, TextValue[]>> {
  const samples = new Map<string, TextValue[]>(columns.map((column) => [column.name, []]));
  if (columns.length === 0 || rows <= 0) return samples;
  const only = table.kind === 'partitioned' ? '' : 'ONLY ';
  const list = columns.map((column) => quoteIdent(column.name)).join(', ');
  const percent =
    table.estimatedRows > rows * 20
      ? Math.max(0.001, Math.min(100, (rows * 500) / table.estimatedRows))
      : null;
  const whole = `${only}${quoteQualified(table)}`;
  const read = async (from: string): Promise<number> => {
    let count = 0;
    for await (const batch of source.streamRows(`SELECT ${list} FROM ${from} LIMIT ${rows}`)) {
      for (const row of batch) {
        columns.forEach((column, index) => {
          samples.get(column.name)?.push(row[index] ?? null);
        });
        count++;
      }
    }
    return count;
  };
  if (percent === null) await read(whole);
  // TABLESAMPLE can return nothing from a table whose rows sit in few pages.
  else if ((await read(`${whole} TABLESAMPLE SYSTEM (${percent.toFixed(4)})`)) === 0) await read(whole);
  return samples;
}
