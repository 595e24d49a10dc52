import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DevsnapError, errorMessage, StoreError } from '../errors.js';
import type { SnapshotStore, StoredObject } from './snapshot-store.js';

/**
 * The embedded default store: snapshots in a directory on this machine. Objects are written to a
 * temporary file and renamed into place, so a crash never leaves a half-written object behind.
 */
export class LocalDirectoryStore implements SnapshotStore {
  readonly location: string;

  constructor(directory: string) {
    this.location = resolve(directory);
  }

  localPath(key: string): string {
    const path = resolve(this.location, key);
    if (path !== this.location && !path.startsWith(this.location + sep)) {
      throw new StoreError(`Store key ${JSON.stringify(key)} points outside ${this.location}.`);
    }
    return path;
  }

  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array | string): Promise<StoredObject> {
    const path = this.localPath(key);
    const temporary = `${path}.${randomBytes(4).toString('hex')}.partial`;
    const hash = createHash('sha256');
    let bytes = 0;
    const chunks = typeof body === 'string' || body instanceof Uint8Array ? [Buffer.from(body)] : body;
    let file: WriteStream | undefined;
    try {
      await mkdir(dirname(path), { recursive: true });
      file = createWriteStream(temporary);
      await pipeline(
        (async function* () {
          for await (const chunk of chunks) {
            hash.update(chunk);
            bytes += chunk.byteLength;
            yield chunk;
          }
        })(),
        file,
      );
      await rename(temporary, path);
    } catch (error) {
      // A body that fails at once can reject the pipeline before the file has even been opened:
      // wait for the stream to close, or the file would be created after it was removed.
      if (file && !file.closed) await once(file, 'close').catch(() => {});
      await rm(temporary, { force: true }).catch(() => {});
      // The body failed (an anonymisation rule refused a value), not the disk: as the S3 store does.
      if (error instanceof DevsnapError) throw error;
      throw storeFailure(`Could not write ${path}`, error);
    }
    return { key, bytes, sha256: hash.digest('hex') };
  }

  get(key: string): Promise<AsyncIterable<Uint8Array>> {
    return this.getFrom(key, 0);
  }

  /** Streams an object from a byte offset (resumed downloads from a local store). */
  async getFrom(key: string, start: number): Promise<AsyncIterable<Uint8Array>> {
    const path = this.localPath(key);
    try {
      await stat(path);
    } catch (error) {
      throw storeFailure(`Could not read ${path}`, error);
    }
    return createReadStream(path, { start });
  }

  async readText(key: string): Promise<string | null> {
    try {
      return await readFile(this.localPath(key), 'utf8');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw storeFailure(`Could not read ${this.localPath(key)}`, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (directory: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if (isNotFound(error)) return;
        throw storeFailure(`Could not list ${directory}`, error);
      }
      for (const entry of entries) {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.endsWith('.partial')) {
          keys.push(relative(this.location, path).split(sep).join('/'));
        }
      }
    };
    const start = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(this.localPath(start));
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    try {
      if (prefix.endsWith('/')) {
        await rm(this.localPath(prefix), { recursive: true, force: true });
        return;
      }
      for (const key of await this.list(prefix)) await rm(this.localPath(key), { force: true });
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw storeFailure(`Could not delete ${this.localPath(prefix)}`, error);
    }
  }

  /** Refuses a store directory that is not there (a mistyped --store), for commands that only read. */
  async assertExists(): Promise<void> {
    try {
      if ((await stat(this.location)).isDirectory()) return;
    } catch (error) {
      if (!isNotFound(error)) throw storeFailure(`Could not read ${this.location}`, error);
      throw new StoreError(`The store ${this.location} does not exist.`, {
        hint: `Check --store (or DEVSNAP_STORE); \`devsnap export --store ${this.location}\` creates it.`,
      });
    }
    throw new StoreError(`The store ${this.location} is a file, not a directory.`, {
      hint: 'Point --store at the directory that holds your snapshots.',
    });
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function storeFailure(what: string, error: unknown): StoreError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT'
      ? 'it does not exist'
      : code === 'ENOSPC'
        ? 'the disk is full'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOTDIR'
            ? 'part of that path is a file, not a directory'
            : code === 'EISDIR'
              ? 'it is a directory'
              : errorMessage(error);
  return new StoreError(`${what}: ${reason}.`, {
    cause: error,
    hint:
      code === 'ENOSPC'
        ? 'Free some disk space and run the command again.'
        : code === 'ENOTDIR'
          ? 'Point --store at a directory (it is created when missing), not at a file.'
          : code === 'EACCES' || code === 'EPERM'
            ? 'Point --store at a directory you may write to.'
            : undefined,
  });
}
