import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SnapshotIntegrityError, StoreError } from '../errors.js';
import type { Manifest, ManifestFile } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { defaultCacheDirectory } from '../pull/cache-directory.js';
import { objectUrl, type SnapshotStore } from './snapshot-store.js';

/**
 * Where remote snapshots are downloaded to: the same cache `devsnap pull` fills (laid out like
 * the store, snapshots/<id>/…), so an import after a pull downloads nothing again.
 */
export function downloadCacheDirectory(): string {
  return defaultCacheDirectory();
}

/** Every file a manifest names: its schema scripts (whichever it has) and each table's data files. */
export function snapshotFiles(manifest: Manifest): ManifestFile[] {
  const schemaFiles = Object.values(manifest.schema).filter(
    (entry): entry is ManifestFile =>
      typeof entry === 'object' && entry !== null && 'key' in entry && 'sha256' in entry && 'bytes' in entry,
  );
  return [...schemaFiles, ...manifest.tables.flatMap((table) => table.files)];
}

/**
 * Downloads a snapshot's files into `directory` (at their store keys) and checks each one's size
 * and sha256 against the manifest as it arrives; a file is renamed into place only once it
 * matches. Files already there and matching are kept, so a second run resumes. Returns the local
 * path of every file, keyed by its store key.
 */
export async function downloadSnapshot(
  store: SnapshotStore,
  manifest: Manifest,
  directory: string,
  reporter: ProgressReporter = silentReporter,
): Promise<Map<string, string>> {
  const root = resolve(directory);
  const files = snapshotFiles(manifest);
  const paths = new Map<string, string>();
  reporter.report({
    type: 'phase',
    phase: 'download',
    detail: `${files.length} files from ${store.location}`,
  });
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const path = resolve(root, file.key);
      if (!path.startsWith(root + sep)) {
        throw new SnapshotIntegrityError(`The manifest names a file outside the snapshot: ${file.key}.`);
      }
      if (!(await matches(path, file))) await downloadFile(store, file, path);
      paths.set(file.key, path);
    }
  };
  // A few at once: S3 serves parallel GETs well, and the slowest file no longer sets the pace.
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, worker));
  return paths;
}

async function downloadFile(store: SnapshotStore, file: ManifestFile, path: string): Promise<void> {
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    await mkdir(dirname(path), { recursive: true });
    const body = await store.get(file.key);
    await pipeline(
      (async function* () {
        for await (const chunk of body) {
          hash.update(chunk);
          bytes += chunk.byteLength;
          yield chunk;
        }
      })(),
      createWriteStream(partial),
    );
    const sha256 = hash.digest('hex');
    if (bytes !== file.bytes || sha256 !== file.sha256) {
      throw new SnapshotIntegrityError(
        `${objectUrl(store, file.key)} has ${bytes} bytes with sha256 ${sha256}, but the manifest records ${file.bytes} bytes with sha256 ${file.sha256}.`,
        {
          hint: 'The snapshot was changed or damaged after it was written: export a new one, or import another (devsnap list).',
        },
      );
    }
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof StoreError || error instanceof SnapshotIntegrityError) throw error;
    throw new StoreError(`Could not download ${objectUrl(store, file.key)} to ${path}: ${String(error)}.`, {
      cause: error,
      hint:
        (error as NodeJS.ErrnoException).code === 'ENOSPC'
          ? 'Free some disk space and run it again.'
          : undefined,
    });
  }
}

async function matches(path: string, file: ManifestFile): Promise<boolean> {
  try {
    if ((await stat(path)).size !== file.bytes) return false;
  } catch {
    return false;
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex') === file.sha256;
}
