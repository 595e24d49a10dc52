import { type Data, makeData, RecordBatch, type Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import type { RecordBatch as WasmRecordBatch, WriterProperties } from 'parquet-wasm';
import { DevsnapError, errorMessage } from '../errors.js';
import type { TextValue } from '../source/source.js';
import { buildArrowColumn } from './arrow-column-builder.js';
import { ParquetWriterWorker, type WriterSettings } from './parquet-writer-worker.js';
import { arrowSchema, type CodecColumn, type PgArrowKind, pgArrowKind } from './pg-arrow-types.js';

type ParquetWasm = typeof import('parquet-wasm');
let parquetWasm: Promise<ParquetWasm> | undefined;

/**
 * parquet-wasm compiles its 5 MB binary when it is imported, so it is imported when the first file
 * is written: commands and Lambda steps that write no Parquet (plan, finalize) never pay for it.
 */
function loadParquetWasm(): Promise<ParquetWasm> {
  parquetWasm ??= import('parquet-wasm');
  return parquetWasm;
}

export interface EncodeParquetOptions {
  /**
   * Rows per Parquet row group. The writer holds one row group (encoded and compressed) in
   * memory; larger groups compress a little better and read faster, smaller ones use less memory.
   */
  rowGroupRows?: number;
  /**
   * `worker` (the default): parquet-wasm encodes on a pooled worker thread while this one builds
   * the next batches; `same`: on this thread (tests of the fallback).
   */
  thread?: 'worker' | 'same';
}

const DEFAULT_ROW_GROUP_ROWS = 262_144;
/** Rows per Arrow record batch handed to the writer: large enough to amortise the IPC hop. */
const ARROW_BATCH_ROWS = 8192;
/**
 * Characters of text per Arrow record batch before it is cut short, so wide rows stay within
 * Arrow's 32-bit offsets and memory stays bounded whatever the values' size.
 */
const ARROW_BATCH_CHARS = 16 * 1024 * 1024;

/**
 * Encodes rows of PostgreSQL text values as one Parquet file (ZSTD), streamed out row group by
 * row group. Memory holds one input batch, up to three Arrow batches (one being built, two queued
 * for the writer thread) and one row group whatever the row count. A row that does not fit its column types stops the stream with a DevsnapError naming
 * the column and value. Zero rows still give a valid file with the schema.
 */
export async function* encodeParquet(
  columns: readonly CodecColumn[],
  batches: AsyncIterable<TextValue[][]>,
  options: EncodeParquetOptions = {},
): AsyncGenerator<Uint8Array> {
  const settings = writerSettings(columns, options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS);
  const worker = options.thread === 'same' ? null : ParquetWriterWorker.start(settings);
  if (worker) yield* encodeOnWorker(worker, columns, batches);
  else yield* encodeHere(settings, columns, batches);
}

/** Builds Arrow batches here and lets the worker encode them, yielding its bytes as they come. */
async function* encodeOnWorker(
  worker: ParquetWriterWorker,
  columns: readonly CodecColumn[],
  batches: AsyncIterable<TextValue[][]>,
): AsyncGenerator<Uint8Array> {
  const source = new ArrowBatchSource(columns, batches[Symbol.asyncIterator]());
  let sourceError: unknown;
  let producing = true;
  const produced = (async () => {
    try {
      for (let ipc = await source.nextIpc(); ipc !== null; ipc = await source.nextIpc())
        await worker.write(ipc);
      worker.end();
    } catch (error) {
      sourceError = error;
    } finally {
      producing = false;
    }
  })();
  let complete = false;
  try {
    for (;;) {
      for (const chunk of worker.takeChunks()) yield chunk;
      if (sourceError !== undefined) throw sourceError;
      if (worker.done) break;
      await (producing ? Promise.race([worker.waitForMessage(), produced]) : worker.waitForMessage());
    }
    complete = true;
  } catch (error) {
    if (sourceError !== undefined || error instanceof DevsnapError) throw sourceError ?? error;
    throw new DevsnapError(`Writing Parquet failed: ${errorMessage(error)}`, { cause: error });
  } finally {
    await source.close();
    if (!complete) worker.end();
    worker.close();
  }
}

/** Encodes on this thread: where no worker can load parquet-wasm (a Lambda bundle inlines it). */
async function* encodeHere(
  settings: WriterSettings,
  columns: readonly CodecColumn[],
  batches: AsyncIterable<TextValue[][]>,
): AsyncGenerator<Uint8Array> {
  const wasm = await loadParquetWasm();
  const source = new ArrowBatchSource(columns, batches[Symbol.asyncIterator]());
  let sourceError: unknown;
  const recordBatches = new ReadableStream<WasmRecordBatch>(
    {
      async pull(controller) {
        try {
          const ipc = await source.nextIpc();
          if (ipc) controller.enqueue(toWasmBatch(wasm, ipc));
          else controller.close();
        } catch (error) {
          sourceError = error;
          controller.error(error);
        }
      },
      async cancel() {
        await source.close();
      },
    },
    // Pull only when the writer asks, so at most one batch waits in memory.
    { highWaterMark: 0 },
  );
  try {
    const bytes: ReadableStream<Uint8Array> = await wasm.transformParquetStream(
      recordBatches,
      writerProperties(wasm, settings),
    );
    for await (const chunk of bytes) yield chunk;
  } catch (error) {
    if (sourceError !== undefined) throw sourceError;
    throw new DevsnapError(`Writing Parquet failed: ${errorMessage(error)}`, { cause: error });
  } finally {
    await source.close();
  }
  if (sourceError !== undefined) throw sourceError;
}

function toWasmBatch(wasm: ParquetWasm, ipc: Uint8Array): WasmRecordBatch {
  const table = wasm.Table.fromIPCStream(ipc);
  const batch = table.recordBatch(0);
  table.free();
  if (!batch) throw new DevsnapError('Arrow IPC hand-over to parquet-wasm lost the record batch');
  return batch;
}

/**
 * ZSTD for every column. Dictionary encoding only for text, where repeated values (statuses,
 * enums, names) are common; on numbers and timestamps it mostly failed over to plain encoding
 * after costing time, and made files larger. Statistics per column chunk, not per page: page
 * statistics tripled the writer's time for little gain on snapshot-sized files.
 */
function writerSettings(columns: readonly CodecColumn[], rowGroupRows: number): WriterSettings {
  return {
    calls: [
      ['setCompression', { enum: 'Compression', name: 'ZSTD' }],
      ['setMaxRowGroupSize', rowGroupRows],
      ['setStatisticsEnabled', { enum: 'EnabledStatistics', name: 'Chunk' }],
      ['setDictionaryEnabled', false],
      ['setCreatedBy', 'devsnap'],
      ...columns
        .filter((column) => pgArrowKind(column) === 'utf8')
        .map((column) => ['setColumnDictionaryEnabled', column.name, true] as const),
    ],
  };
}

/** The properties on this thread (the worker applies the same calls). */
function writerProperties(wasm: ParquetWasm, settings: WriterSettings): WriterProperties {
  const enums = wasm as unknown as Record<string, Record<string, unknown>>;
  let builder = new wasm.WriterPropertiesBuilder() as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  for (const [method, ...args] of settings.calls) {
    const values = args.map((arg) => (typeof arg === 'object' ? enums[arg.enum]?.[arg.name] : arg));
    builder = builder[method]!(...values) as typeof builder;
  }
  return (builder as unknown as { build(): WriterProperties }).build();
}

/** Regroups incoming rows into Arrow record batches and hands them to parquet-wasm. */
class ArrowBatchSource {
  private readonly kinds: PgArrowKind[];
  private readonly textColumns: number[];
  private readonly schema: Schema;
  private readonly struct: Struct;
  private current: TextValue[][] = [];
  private position = 0;
  private rowsSeen = 0;
  private done = false;
  private sentAny = false;

  constructor(
    private readonly columns: readonly CodecColumn[],
    private readonly input: AsyncIterator<TextValue[][]>,
  ) {
    this.kinds = columns.map(pgArrowKind);
    this.schema = arrowSchema(columns);
    this.struct = new Struct(this.schema.fields);
    this.textColumns = this.kinds.flatMap((kind, index) =>
      kind === 'utf8' || kind === 'binary' ? [index] : [],
    );
  }

  /** The next record batch as Arrow IPC stream bytes, or null after the last. */
  async nextIpc(): Promise<Uint8Array | null> {
    const rows = await this.collect();
    if (rows.length === 0 && this.sentAny) return null;
    // The first batch is sent even when empty: the writer takes the file's schema from it.
    this.sentAny = true;
    return this.toIpc(rows);
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.input.return?.();
  }

  private async collect(): Promise<TextValue[][]> {
    const rows: TextValue[][] = [];
    let chars = 0;
    const width = this.columns.length;
    while (rows.length < ARROW_BATCH_ROWS && chars < ARROW_BATCH_CHARS) {
      if (this.position === this.current.length) {
        if (this.done) break;
        const result = await this.input.next();
        if (result.done) {
          this.done = true;
          break;
        }
        this.current = result.value;
        this.position = 0;
        continue;
      }
      const row = this.current[this.position++]!;
      this.rowsSeen++;
      if (row.length !== width) {
        throw new DevsnapError(
          `Row ${this.rowsSeen} has ${row.length} values, expected ${width} (${this.names()})`,
        );
      }
      for (const column of this.textColumns) chars += row[column]?.length ?? 0;
      rows.push(row);
    }
    return rows;
  }

  private toIpc(rows: TextValue[][]): Uint8Array {
    const children: Data[] = this.kinds.map((kind, column) => {
      try {
        return buildArrowColumn(kind, rows, column);
      } catch (error) {
        throw this.valueError(rows, column, error);
      }
    });
    const data = makeData({
      type: this.struct,
      length: rows.length,
      nullCount: 0,
      children,
    });
    return tableToIPC(new Table([new RecordBatch(this.schema, data)]), 'stream');
  }

  private valueError(rows: TextValue[][], column: number, error: unknown): DevsnapError {
    const info = this.columns[column]!;
    const firstRow = this.rowsSeen - rows.length + 1;
    return new DevsnapError(
      `Column ${info.name} (${info.dataType}) in rows ${firstRow}–${this.rowsSeen}: ${errorMessage(error)}`,
      {
        cause: error,
        hint: 'Values must be in PostgreSQL text output format under devsnap SESSION_SETTINGS.',
      },
    );
  }

  private names(): string {
    return this.columns.map((column) => column.name).join(', ');
  }
}
