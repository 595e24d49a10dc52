import type { Data, Schema } from 'apache-arrow';
import { SnapshotIntegrityError } from '../errors.js';
import { CopyTextSink, copyFieldWriter } from './arrow-column-text.js';
import { ParquetFileReader } from './parquet-file-reader.js';
import { type CodecColumn, type PgArrowKind, pgArrowKindOfArrowType } from './pg-arrow-types.js';

export interface DecodeParquetOptions {
  /** Rows per output chunk (and per Parquet read). */
  batchRows?: number;
}

/**
 * Reads a local Parquet file written by encodeParquet and yields COPY text format (tab
 * separated, `\N` for NULL, one `\n`-terminated line per row) for `COPY t (columns) FROM STDIN`
 * in a session with SESSION_SETTINGS. Columns come out in the order given, found by name;
 * values are formatted by the Arrow type the file holds, so only names are needed.
 * Memory holds about two record batches whatever the file size. A missing column, an unknown
 * column type, or a truncated or corrupt file raises SnapshotIntegrityError naming the file.
 */
export async function* decodeParquetToCopyText(
  file: string,
  columns: readonly Pick<CodecColumn, 'name'>[],
  options: DecodeParquetOptions = {},
): AsyncGenerator<Buffer> {
  const reader = await ParquetFileReader.open(file, { batchRows: options.batchRows ?? 8192 });
  try {
    const plan = planColumns(file, reader.schema, columns);
    const sink = new CopyTextSink();
    for await (const batch of reader.batches()) {
      const writers = plan.map(({ index, kind }) =>
        copyFieldWriter(kind, batch.data.children[index] as Data),
      );
      const width = writers.length;
      for (let row = 0; row < batch.numRows; row++) {
        for (let column = 0; column < width; column++) {
          if (column > 0) {
            sink.reserve(1);
            sink.byte(TAB);
          }
          writers[column]!(sink, row);
        }
        sink.reserve(1);
        sink.byte(NEWLINE);
      }
      if (sink.position > 0) yield sink.take();
    }
  } finally {
    reader.close();
  }
}

const TAB = 0x09;
const NEWLINE = 0x0a;

/** Row count from the Parquet footer (no data pages are read). */
export function readParquetRowCount(file: string): Promise<number> {
  return ParquetFileReader.rowCount(file);
}

function planColumns(
  file: string,
  schema: Schema,
  columns: readonly Pick<CodecColumn, 'name'>[],
): { index: number; kind: PgArrowKind }[] {
  return columns.map((column) => {
    const index = schema.fields.findIndex((field) => field.name === column.name);
    if (index === -1) {
      throw new SnapshotIntegrityError(`Parquet file ${file} has no column ${column.name}`, {
        hint: 'The snapshot does not match its manifest; pull it again or take a new snapshot.',
      });
    }
    const field = schema.fields[index]!;
    const kind = pgArrowKindOfArrowType(field.type);
    if (kind === null) {
      throw new SnapshotIntegrityError(
        `Parquet file ${file} stores column ${column.name} as ${field.type}, which devsnap does not write`,
      );
    }
    return { index, kind };
  });
}
