import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { type RecordBatch, type Schema, tableFromIPC } from 'apache-arrow';
import { errorMessage, SnapshotIntegrityError } from '../errors.js';

/**
 * Reads a local Parquet file as Arrow record batches, one batch at a time.
 *
 * parquet-wasm does the reading, in a worker thread: on some corrupt inputs (damaged pages) it
 * panics inside a task it runs from a microtask, which no caller can catch — in the main thread
 * that would end the process. In a worker, the panic only ends the worker and becomes a
 * SnapshotIntegrityError. The worker also decompresses the next batch while the caller works on
 * the current one. Workers are kept for reuse, one file at a time each.
 */
export class ParquetFileReader {
  private finished = false;

  private constructor(
    private readonly file: string,
    private readonly worker: PooledWorker,
    /** Schema of the file (columns, Arrow types, field metadata). */
    readonly schema: Schema,
    /** Row count from the file footer. */
    readonly rowCount: number,
  ) {}

  /** Opens `file` and reads its footer; the file's errors become SnapshotIntegrityError. */
  static async open(file: string, options: { batchRows?: number } = {}): Promise<ParquetFileReader> {
    const worker = await PooledWorker.acquire();
    try {
      const opened = await worker.request(file, { type: 'open', file, batchRows: options.batchRows ?? 8192 });
      if (opened.type !== 'opened') throw unexpected(file, opened);
      const schema = decodeIpc(file, opened.schema).schema;
      return new ParquetFileReader(file, worker, schema, opened.rows);
    } catch (error) {
      worker.discard();
      throw error;
    }
  }

  /** Row count from the footer alone, without reading data pages. */
  static async rowCount(file: string): Promise<number> {
    const worker = await PooledWorker.acquire();
    try {
      const answer = await worker.request(file, { type: 'count', file });
      if (answer.type !== 'counted') throw unexpected(file, answer);
      worker.release();
      return answer.rows;
    } catch (error) {
      worker.discard();
      throw error;
    }
  }

  /** The file's record batches in order. Stopping early closes the reader. */
  async *batches(): AsyncGenerator<RecordBatch> {
    if (this.finished) throw new Error('ParquetFileReader.batches() can be iterated once');
    try {
      // One batch is always in flight, so the worker reads while the caller converts.
      let pending = this.worker.request(this.file, { type: 'next' });
      for (;;) {
        const answer = await pending;
        if (answer.type === 'end') break;
        if (answer.type !== 'batch') throw unexpected(this.file, answer);
        pending = this.worker.request(this.file, { type: 'next' });
        // Don't leave an in-flight request unobserved if the caller stops here.
        pending.catch(() => {});
        for (const batch of decodeIpc(this.file, answer.ipc).batches) yield batch;
      }
      this.finished = true;
      this.worker.release();
    } finally {
      if (!this.finished) {
        this.finished = true;
        this.worker.discard();
      }
    }
  }

  /** Releases the worker when batches() was not run to its end. */
  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.worker.discard();
  }
}

function decodeIpc(file: string, ipc: Uint8Array) {
  try {
    return tableFromIPC(ipc);
  } catch (error) {
    throw integrityError(file, errorMessage(error), error);
  }
}

function integrityError(file: string, reason: string, cause?: unknown): SnapshotIntegrityError {
  return new SnapshotIntegrityError(`Parquet file ${file} is unreadable: ${reason}`, {
    cause,
    hint: 'The file is truncated or corrupt: delete it from the local snapshot cache and pull again.',
  });
}

function unexpected(file: string, answer: WorkerAnswer): Error {
  return integrityError(file, `unexpected reader answer ${answer.type}`);
}

type WorkerRequest =
  | { type: 'open'; file: string; batchRows: number }
  | { type: 'count'; file: string }
  | { type: 'next' };

type WorkerAnswer =
  | { type: 'opened'; rows: number; schema: Uint8Array }
  | { type: 'counted'; rows: number }
  | { type: 'batch'; ipc: Uint8Array }
  | { type: 'end' }
  | { type: 'error'; message: string; missing?: boolean };

const MAX_IDLE_WORKERS = 2;
const idleWorkers: PooledWorker[] = [];

/** A worker running READER_SCRIPT; answers requests one at a time, in order. */
class PooledWorker {
  private readonly waiting: {
    resolve(answer: WorkerAnswer): void;
    reject(error: unknown): void;
    file: string;
  }[] = [];
  private dead = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (answer: WorkerAnswer) => this.waiting.shift()?.resolve(answer));
    worker.on('error', (error) => this.die(error));
    worker.on('exit', (code) => this.die(new Error(`the Parquet reader stopped (exit code ${code})`)));
  }

  static async acquire(): Promise<PooledWorker> {
    const idle = idleWorkers.pop();
    if (idle) {
      idle.worker.ref();
      return idle;
    }
    return new PooledWorker(
      new Worker(READER_SCRIPT, { eval: true, workerData: { parquetWasm: parquetWasmPath() } }),
    );
  }

  request(file: string, message: WorkerRequest): Promise<WorkerAnswer> {
    if (this.dead) return Promise.reject(integrityError(file, 'the Parquet reader stopped'));
    return new Promise<WorkerAnswer>((resolve, reject) => {
      this.waiting.push({ resolve, reject, file });
      this.worker.postMessage(message);
    }).then((answer) => {
      if (answer.type !== 'error') return answer;
      if (answer.missing) {
        throw new SnapshotIntegrityError(`Parquet file ${file} is missing`, {
          hint: 'Pull the snapshot again to restore the local cache.',
        });
      }
      throw integrityError(file, answer.message);
    });
  }

  /** Back to the pool after a clean finish. */
  release(): void {
    if (this.dead || this.waiting.length > 0 || idleWorkers.length >= MAX_IDLE_WORKERS) {
      this.discard();
      return;
    }
    // An idle worker must not keep the process alive.
    this.worker.unref();
    idleWorkers.push(this);
  }

  /** Stops the worker: after an error or an abandoned read its state is unknown. */
  discard(): void {
    if (!this.dead) {
      this.dead = true;
      void this.worker.terminate();
    }
    this.failWaiting(new Error('the Parquet reader was closed'));
  }

  private die(error: Error): void {
    const wasDead = this.dead;
    this.dead = true;
    const index = idleWorkers.indexOf(this);
    if (index >= 0) idleWorkers.splice(index, 1);
    if (!wasDead) this.failWaiting(error);
  }

  private failWaiting(error: Error): void {
    for (const waiter of this.waiting.splice(0)) {
      waiter.reject(integrityError(waiter.file, errorMessage(error), error));
    }
  }
}

let resolvedParquetWasm: string | undefined;

function parquetWasmPath(): string {
  resolvedParquetWasm ??= createRequire(import.meta.url).resolve('parquet-wasm');
  return resolvedParquetWasm;
}

// Plain CommonJS so the worker needs no TypeScript loader. Errors that parquet-wasm reports
// normally are answered as messages; panics end the worker, which the main thread reports.
const READER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const { openAsBlob } = require('node:fs');
const { stat } = require('node:fs/promises');
const wasm = require(workerData.parquetWasm);
let open = null;

async function openFile(path) {
  await stat(path); // openAsBlob's own error does not say the file is missing
  const blob = await openAsBlob(path);
  if (blob.size < 12) throw new Error('file of ' + blob.size + ' bytes is too short to be Parquet');
  const head = Buffer.from(await blob.slice(0, 4).arrayBuffer()).toString('latin1');
  const tail = Buffer.from(await blob.slice(blob.size - 4).arrayBuffer()).toString('latin1');
  if (head !== 'PAR1' || tail !== 'PAR1') throw new Error('missing Parquet magic bytes (truncated or not Parquet)');
  return wasm.ParquetFile.fromFile(blob);
}

async function handle(message) {
  switch (message.type) {
    case 'count': {
      const file = await openFile(message.file);
      const rows = file.metadata().fileMetadata().numRows();
      file.free();
      return { type: 'counted', rows };
    }
    case 'open': {
      const file = await openFile(message.file);
      const rows = file.metadata().fileMetadata().numRows();
      const schema = file.schema().intoIPCStream();
      const stream = await file.stream({ batchSize: message.batchRows });
      open = { file, reader: stream.getReader() };
      return { type: 'opened', rows, schema };
    }
    case 'next': {
      const { done, value } = await open.reader.read();
      if (done) {
        open.file.free();
        open = null;
        return { type: 'end' };
      }
      return { type: 'batch', ipc: value.intoIPCStream() };
    }
  }
}

let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(async () => {
    let answer;
    try {
      answer = await handle(message);
    } catch (error) {
      answer = {
        type: 'error',
        message: String((error && error.message) || error),
        missing: Boolean(error && error.code === 'ENOENT'),
      };
    }
    const transfer = answer.schema ? [answer.schema.buffer] : answer.ipc ? [answer.ipc.buffer] : [];
    parentPort.postMessage(answer, transfer);
  });
});
`;
