import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3SnapshotStore, type S3SnapshotStoreOptions } from '../../core/store/s3-snapshot-store.js';
import { setEnvironment } from './process-environment.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 's3rver-process.cjs');

/** s3rver's built-in key pair; the SDK signs with it and s3rver checks the signature. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface TestS3Server {
  /** http://127.0.0.1:port */
  readonly endpoint: string;
  readonly bucket: string;
  /** A store on this server under a fresh prefix (so tests in one bucket never see each other). */
  store(options?: Partial<S3SnapshotStoreOptions>): S3SnapshotStore;
  /**
   * Sets the variables the CLI and the SDK's default credential chain read, so `--store s3://…`
   * reaches this server; returns a function that restores the previous values.
   */
  useEnvironment(): () => void;
  /** Requests served so far, by S3 operation (PutObject, UploadPart, CompleteMultipartUpload, …). */
  requestCounts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 in a child process (see s3rver-process.cjs for why) with one empty
 * bucket, backed by a temporary directory that stop() removes.
 */
export async function startS3Server(bucket = 'devsnap-test'): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'devsnap-s3rver-'));
  const child = fork(CHILD, [JSON.stringify({ directory, buckets: [bucket] })], {
    execArgv: [],
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let port: number;
  try {
    port = await waitForPort(child, () => stderr);
  } catch (error) {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    store(options = {}) {
      return new S3SnapshotStore({
        bucket,
        prefix: `run-${randomBytes(4).toString('hex')}/`,
        endpoint,
        region: 'us-east-1',
        credentials: S3RVER_CREDENTIALS,
        ...options,
      });
    },
    useEnvironment() {
      return setEnvironment({
        DEVSNAP_S3_ENDPOINT: endpoint,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      });
    },
    requestCounts() {
      return new Promise((resolve) => {
        const listener = (message: { counts?: Record<string, number> }) => {
          if (!message.counts) return;
          child.off('message', listener);
          resolve({ ...message.counts });
        };
        child.on('message', listener);
        child.send('counts');
      });
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function waitForPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`s3rver did not start within 20 s.\n${stderr()}`)),
      20_000,
    );
    child.once('message', (message: { port?: number; error?: string }) => {
      clearTimeout(timer);
      if (message.port) resolve(message.port);
      else reject(new Error(`s3rver failed to start: ${message.error}\n${stderr()}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code} before it started.\n${stderr()}`));
    });
  });
}
