import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StoreError } from '../errors.js';
import { snapshotPrefix } from '../manifest.js';

/**
 * The pull cache, written so that nothing in it can send a write elsewhere: a key is a path of plain
 * names inside its snapshot's own folder; every directory below the cache root is created here
 * (readable by the user only) or checked with lstat to be a real directory, never a symbolic link;
 * and files are opened with O_NOFOLLOW. The root itself may be a link the user made.
 */
export class ConfinedCache {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The local path of a snapshot's file; refuses a key outside `snapshots/<id>/` or with `..`. */
  path(key: string, snapshotId: string): string {
    return join(this.root, ...this.segments(key, snapshotId));
  }

  /** Makes (or checks) every directory from the root down to the key's folder; returns the file's path. */
  async prepare(key: string, snapshotId: string): Promise<string> {
    const segments = this.segments(key, snapshotId);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    let directory = this.root;
    for (const segment of segments.slice(0, -1)) {
      directory = join(directory, segment);
      const found = await lstat(directory).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      if (found === null) {
        await mkdir(directory, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
        });
        const made = await lstat(directory);
        if (!made.isDirectory()) throw notADirectory(directory);
      } else if (!found.isDirectory() || found.isSymbolicLink()) {
        throw notADirectory(directory);
      }
    }
    return join(directory, segments.at(-1) as string);
  }

  /**
   * Size of a cached file, or -1 when there is none. Anything but a plain file (a link planted in
   * the cache, a directory) is removed — the link itself, never what it points at — and counts as
   * missing, so the file is downloaded again.
   */
  async size(path: string): Promise<number> {
    const found = await lstat(path).catch(() => null);
    if (found === null) return -1;
    if (found.isFile()) return found.size;
    await rm(path, { recursive: false, force: true }).catch(() => {});
    return -1;
  }

  /** Opens a file to read without following a link. */
  openToRead(path: string): Promise<FileHandle> {
    return open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  }

  /** Opens (creating it, 0600) a file to write from `offset`, without following a link. */
  openToWrite(path: string, offset: number): Promise<FileHandle> {
    const truncate = offset > 0 ? 0 : constants.O_TRUNC;
    return open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | truncate, 0o600);
  }

  private segments(key: string, snapshotId: string): string[] {
    const prefix = snapshotPrefix(snapshotId);
    const segments = key.split('/');
    const plain = segments.every(
      (segment) => segment !== '' && segment !== '.' && segment !== '..' && !/[\\\0]/.test(segment),
    );
    if (!key.startsWith(prefix) || !plain) {
      throw new StoreError(
        `Refusing to cache ${JSON.stringify(key)}: it is not a file of snapshot ${snapshotId}.`,
      );
    }
    return segments;
  }
}

function notADirectory(path: string): StoreError {
  return new StoreError(
    `${path} in the cache is a symbolic link or not a directory; devsnap does not follow links there.`,
    {
      hint: 'Remove it (or pass another --cache-dir) and pull again.',
    },
  );
}
