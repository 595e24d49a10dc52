import { createHash } from 'node:crypto';
import { type ColumnInfo, quoteIdent, quoteQualified, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';

/** Tables up to this many rows are read whole (up to this many rows): cheap, and nothing is missed. */
export const WHOLE_TABLE_ROWS = 10_000;

/**
 * Reads values of some columns of a table for the classifier, the same ones every run while the
 * table is unchanged: small tables whole (up to WHOLE_TABLE_ROWS rows), large ones through
 * `TABLESAMPLE SYSTEM … REPEATABLE (seed)` — pages spread over the table, chosen by a seed made
 * from the table's name — up to `rows` rows. Plan and init stay fast and give the same verdict for
 * the same data; the export's check of every written value is the guarantee.
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
  const small = table.estimatedRows <= Math.max(rows, WHOLE_TABLE_ROWS);
  const whole = `${only}${quoteQualified(table)}`;
  const read = async (from: string, limit: number): Promise<number> => {
    let count = 0;
    for await (const batch of source.streamRows(`SELECT ${list} FROM ${from} LIMIT ${limit}`)) {
      for (const row of batch) {
        columns.forEach((column, index) => {
          samples.get(column.name)?.push(row[index] ?? null);
        });
        count++;
      }
    }
    return count;
  };
  if (small) {
    await read(whole, Math.max(rows, WHOLE_TABLE_ROWS));
    return samples;
  }
  const percent = Math.max(0.001, Math.min(100, (rows * 500) / table.estimatedRows));
  const seed =
    createHash('sha256').update(`${table.schema}.${table.name}`).digest().readUInt32BE(0) & 0x7fffffff;
  // TABLESAMPLE can return nothing from a table whose rows sit in few pages.
  const sampled = `${whole} TABLESAMPLE SYSTEM (${percent.toFixed(4)}) REPEATABLE (${seed})`;
  if ((await read(sampled, rows)) === 0) await read(whole, rows);
  return samples;
}
