import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../errors.js';

/** An argument of a WriterPropertiesBuilder call; `{ enum, name }` is `wasm[enum][name]`. */
export type WriterArgument = string | number | boolean | { readonly enum: string; readonly name: string };

/**
 * parquet-wasm's WriterProperties as the builder calls that make them (method name, arguments),
 * since the properties themselves cannot cross threads: both threads apply the same list.
 */
export interface WriterSettings {
  readonly calls: readonly (readonly [method: string, ...args: WriterArgument[]])[];
}

/**
 * parquet-wasm's encoding and ZSTD compression on a second thread. The caller builds each Arrow
 * record batch and sends it as IPC bytes (moved, not copied); the worker encodes while the caller
 * parses the next rows, and sends the file's bytes back. Profiles of an export put a quarter of
 * its CPU time in parquet-wasm: on two cores (Lambda's 3,538 MB size, a laptop) that quarter
 * overlaps with reading instead of adding to it.
 *
 * At most MAX_IN_FLIGHT batches wait in the worker, so memory stays bounded. Workers are pooled:
 * one compiles parquet-wasm once and writes file after file. Where parquet-wasm cannot be
 * resolved as a package (a Lambda bundle has it inlined), `start` returns null and the caller
 * encodes on its own thread.
 */
export class ParquetWriterWorker {
  private readonly chunks: Uint8Array[] = [];
  private inFlight = 0;
  private finished = false;
  private failure: Error | null = null;
  /** Whoever waits for a chunk, for room to send, or for the end (the writer and the reader). */
  private readonly waiting: (() => void)[] = [];

  private constructor(private readonly pooled: PooledWriter) {
    pooled.listener = (message) => this.onMessage(message);
  }

  static start(settings: WriterSettings): ParquetWriterWorker | null {
    const pooled = PooledWriter.acquire();
    if (!pooled) return null;
    const writer = new ParquetWriterWorker(pooled);
    pooled.send({ type: 'start', settings });
    return writer;
  }

  /** Sends one batch (Arrow IPC stream bytes), first waiting while the worker has enough queued. */
  async write(ipc: Uint8Array): Promise<void> {
    while (this.inFlight >= MAX_IN_FLIGHT && !this.failure) await this.waitForMessage();
    if (this.failure) throw this.failure;
    this.inFlight++;
    this.pooled.send({ type: 'batch', ipc }, transferable(ipc));
  }

  /** No more batches: the worker writes the footer. */
  end(): void {
    if (!this.failure) this.pooled.send({ type: 'end' });
  }

  /** Parquet bytes the worker has sent so far (emptied by the call). */
  takeChunks(): Uint8Array[] {
    return this.chunks.splice(0);
  }

  /** True once the file is complete; throws what went wrong in the worker. */
  get done(): boolean {
    if (this.failure) throw this.failure;
    return this.finished && this.chunks.length === 0;
  }

  /** Resolves at the next message from the worker (a chunk, room for a batch, the end, an error). */
  waitForMessage(): Promise<void> {
    if (this.failure || this.finished) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
    });
  }

  /** Back to the pool after a complete file; a worker stopped half-way is discarded. */
  close(): void {
    this.pooled.listener = null;
    if (this.finished && !this.failure) {
      this.pooled.release();
      return;
    }
    this.pooled.discard();
    // A batch still waiting for room gives up instead of waiting for a worker that is gone.
    this.failure ??= new Error('the Parquet writer was closed');
    for (const wake of this.waiting.splice(0)) wake();
  }

  private onMessage(message: WriterAnswer): void {
    switch (message.type) {
      case 'consumed':
        this.inFlight--;
        break;
      case 'chunk':
        this.chunks.push(message.chunk);
        break;
      case 'done':
        this.finished = true;
        break;
      case 'error':
        this.failure = new Error(message.message);
        break;
    }
    for (const wake of this.waiting.splice(0)) wake();
  }
}

/** Batches waiting in the worker at most: one being encoded, one ready next. */
const MAX_IN_FLIGHT = 2;
const MAX_IDLE_WORKERS = 2;

type WriterRequest =
  | { type: 'start'; settings: WriterSettings }
  | { type: 'batch'; ipc: Uint8Array }
  | { type: 'end' };

type WriterAnswer =
  | { type: 'consumed' }
  | { type: 'chunk'; chunk: Uint8Array }
  | { type: 'done' }
  | { type: 'error'; message: string };

const idle: PooledWriter[] = [];

class PooledWriter {
  listener: ((message: WriterAnswer) => void) | null = null;
  private dead = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: WriterAnswer) => this.listener?.(message));
    const fail = (error: Error) => {
      this.dead = true;
      const at = idle.indexOf(this);
      if (at >= 0) idle.splice(at, 1);
      this.listener?.({ type: 'error', message: `the Parquet writer stopped: ${errorMessage(error)}` });
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  static acquire(): PooledWriter | null {
    const reused = idle.pop();
    if (reused) {
      reused.worker.ref();
      return reused;
    }
    const parquetWasm = parquetWasmPath();
    if (parquetWasm === null) return null;
    try {
      return new PooledWriter(new Worker(WRITER_SCRIPT, { eval: true, workerData: { parquetWasm } }));
    } catch {
      return null;
    }
  }

  send(message: WriterRequest, transfer: ArrayBuffer[] = []): void {
    if (!this.dead) this.worker.postMessage(message, transfer);
  }

  release(): void {
    if (this.dead || idle.length >= MAX_IDLE_WORKERS) {
      this.discard();
      return;
    }
    // An idle worker must not keep the process alive.
    this.worker.unref();
    idle.push(this);
  }

  discard(): void {
    if (this.dead) return;
    this.dead = true;
    this.listener = null;
    void this.worker.terminate();
  }
}

function transferable(bytes: Uint8Array): ArrayBuffer[] {
  const buffer = bytes.buffer;
  // Only a buffer the view covers whole can be moved; a shared or pooled one is copied instead.
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
    ? [buffer]
    : [];
}

let resolved: string | null | undefined;

function parquetWasmPath(): string | null {
  if (resolved === undefined) {
    try {
      resolved = createRequire(import.meta.url).resolve('parquet-wasm');
    } catch {
      resolved = null;
    }
  }
  return resolved;
}

// Plain CommonJS so the worker needs no TypeScript loader. One file at a time: 'start', its
// batches, 'end'; then the next. An error is answered and ends the file (the caller discards the
// worker); a panic ends the worker, which the caller reports.
const WRITER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const wasm = require(workerData.parquetWasm);
let file = null;

function properties(settings) {
  let builder = new wasm.WriterPropertiesBuilder();
  for (const [method, ...args] of settings.calls)
    builder = builder[method](...args.map((arg) => (arg && typeof arg === 'object' ? wasm[arg.enum][arg.name] : arg)));
  return builder.build();
}

function startFile(settings) {
  const queue = [];
  let waiting = null;
  const next = () => queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => { waiting = resolve; });
  file = {
    push(item) {
      if (waiting) { const resolve = waiting; waiting = null; resolve(item); } else queue.push(item);
    },
  };
  const batches = new ReadableStream({
    async pull(controller) {
      const ipc = await next();
      if (ipc === null) { controller.close(); return; }
      const table = wasm.Table.fromIPCStream(ipc);
      const batch = table.recordBatch(0);
      table.free();
      controller.enqueue(batch);
      parentPort.postMessage({ type: 'consumed' });
    },
  }, { highWaterMark: 0 });
  (async () => {
    try {
      const bytes = await wasm.transformParquetStream(batches, properties(settings));
      for await (const chunk of bytes) {
        const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
        const owned = whole ? chunk : chunk.slice();
        parentPort.postMessage({ type: 'chunk', chunk: owned }, [owned.buffer]);
      }
      parentPort.postMessage({ type: 'done' });
    } catch (error) {
      parentPort.postMessage({ type: 'error', message: String((error && error.message) || error) });
    }
  })();
}

parentPort.on('message', (message) => {
  if (message.type === 'start') startFile(message.settings);
  else if (message.type === 'batch') file.push(message.ipc);
  else if (message.type === 'end') file.push(null);
});
`;
