import { createHash, type Hash } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { errorMessage, SnapshotIntegrityError, StoreError } from '../errors.js';
import { readManifest, type StoredManifest } from '../import/snapshot-reader.js';
import { type ManifestFile, manifestKey, snapshotFiles } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { LocalDirectoryStore } from '../store/local-directory-store.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import type { SealCheck } from '../trust/check-seal.js';
import { sealKey } from '../trust/snapshot-seal.js';
import type { TrustPolicy } from '../trust/trusted-keys.js';
import { defaultCacheDirectory } from './cache-directory.js';
import { ConfinedCache } from './confined-cache.js';

/** sha256 of a cached file, read without following a link. */
async function sha256Of(cache: ConfinedCache, path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, cache, path);
  return hash.digest('hex');
}

/** Feeds a cached file (its first `bytes` bytes, when given) to `hash`, never following a link. */
async function hashInto(hash: Hash, cache: ConfinedCache, path: string, bytes?: number): Promise<void> {
  const handle = await cache.openToRead(path);
  try {
    const range = bytes === undefined ? {} : { end: bytes - 1 };
    for await (const chunk of handle.createReadStream({ autoClose: false, ...range }))
      hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
}

/** A store that can stream an object from a byte offset, so an interrupted download resumes. */
interface RangedReads {
  getFrom(key: string, start: number): Promise<AsyncIterable<Uint8Array>>;
}

function hasRangedReads(store: SnapshotStore): store is SnapshotStore & RangedReads {
  return typeof (store as Partial<RangedReads>).getFrom === 'function';
}

export interface PullOptions {
  readonly store: SnapshotStore;
  /** `latest` (default), an id or a unique prefix of one. */
  readonly snapshot?: string;
  /** Defaults to defaultCacheDirectory(). */
  readonly cacheDirectory?: string;
  readonly reporter?: ProgressReporter;
  /** Files downloaded at once. */
  readonly concurrency?: number;
  /** Keys whose signature the snapshot must carry; none: the digest chain is checked alone. */
  readonly trust?: TrustPolicy;
}

export interface PullResult {
  readonly snapshotId: string;
  /** The cache, readable as a store; the snapshot is complete and verified in it. */
  readonly cache: LocalDirectoryStore;
  readonly files: number;
  readonly bytes: number;
  /** Bytes actually transferred this time (0 when everything was cached). */
  readonly downloadedBytes: number;
  /** Whether a trusted key signed the snapshot. */
  readonly seal: SealCheck;
  readonly durationMs: number;
}

/**
 * Downloads a snapshot into the local cache, in parallel, checking each file's size and sha256.
 * Files already cached and intact are kept; a truncated or changed cached file is fetched again;
 * an interrupted download resumes where it stopped when the store can read from an offset. The
 * manifest is written last, so a cache entry with a manifest is complete.
 */
export async function pullSnapshot(options: PullOptions): Promise<PullResult> {
  return cacheSnapshot(
    options.store,
    await readManifest(options.store, options.snapshot ?? 'latest', options.trust),
    options,
  );
}

/** pullSnapshot for a manifest already read (and checked) from the store. */
export async function cacheSnapshot(
  store: SnapshotStore,
  { manifest, text, sealText, seal }: StoredManifest,
  options: Omit<PullOptions, 'store' | 'snapshot' | 'trust'> = {},
): Promise<PullResult> {
  const started = performance.now();
  const reporter = options.reporter ?? silentReporter;
  const directory = options.cacheDirectory ?? defaultCacheDirectory();
  const confined = new ConfinedCache(directory);
  const cache = new LocalDirectoryStore(directory);
  const files = snapshotFiles(manifest);
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  reporter.report({
    type: 'phase',
    phase: 'pull',
    detail: `${manifest.snapshotId}, ${files.length} files from ${store.location}`,
  });

  let transferred = 0;
  let done = 0;
  const progress = () =>
    reporter.report({
      type: 'transfer',
      bytes: done,
      totalBytes: total,
      elapsedMs: performance.now() - started,
    });
  const queue = [...files];
  // The first failure stops the others after their current file, and is thrown once all have
  // stopped: nothing is still writing into the cache when the pull reports it.
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let file = queue.shift(); file && !failure; file = queue.shift()) {
      try {
        const downloaded = await fetchFile(store, confined, manifest.snapshotId, file, (bytes) => {
          done += bytes;
          progress();
        });
        transferred += downloaded;
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  if (failure) throw failure.error;

  // Last, so a cache entry with a manifest is complete; their folder was checked by the files' prepare.
  await confined.prepare(sealKey(manifest.snapshotId), manifest.snapshotId);
  await cache.put(sealKey(manifest.snapshotId), sealText);
  await cache.put(manifestKey(manifest.snapshotId), text);
  return {
    snapshotId: manifest.snapshotId,
    cache,
    files: files.length,
    bytes: total,
    downloadedBytes: transferred,
    seal,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Makes one cached file complete and verified; returns the bytes downloaded for it. */
async function fetchFile(
  store: SnapshotStore,
  cache: ConfinedCache,
  snapshotId: string,
  file: ManifestFile,
  onBytes: (bytes: number) => void,
): Promise<number> {
  const path = await cache.prepare(file.key, snapshotId);
  if ((await cache.size(path)) === file.bytes && (await sha256Of(cache, path)) === file.sha256) {
    onBytes(file.bytes);
    return 0;
  }
  await rm(path, { force: true });
  const partial = `${path}.download`;
  let offset = hasRangedReads(store) ? Math.max(0, Math.min(await cache.size(partial), file.bytes)) : 0;
  const hash = createHash('sha256');
  if (offset > 0) {
    // Hash the bytes already there, then go on hashing the rest as it arrives.
    await hashInto(hash, cache, partial, offset);
    onBytes(offset);
  } else {
    await rm(partial, { force: true });
  }
  let downloaded = 0;
  const start = offset;
  try {
    const body =
      offset > 0 && hasRangedReads(store) ? await store.getFrom(file.key, offset) : await store.get(file.key);
    const output = await cache.openToWrite(partial, start);
    await pipeline(async function* () {
      for await (const chunk of body) {
        // Not a byte past what the manifest says: a store cannot fill the disk through one file.
        if (start + downloaded + chunk.byteLength > file.bytes) {
          throw new SnapshotIntegrityError(
            `${file.key} in ${store.location} is larger than the ${file.bytes} bytes its manifest records; download stopped.`,
            {
              hint: 'The stored snapshot is damaged or was replaced: export a new one or pull another (devsnap list).',
            },
          );
        }
        hash.update(chunk);
        downloaded += chunk.byteLength;
        onBytes(chunk.byteLength);
        yield chunk;
      }
    }, output.createWriteStream({ start }));
  } catch (error) {
    if (error instanceof SnapshotIntegrityError) {
      await rm(partial, { force: true });
      throw error;
    }
    const full = (error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC';
    throw new StoreError(
      full
        ? `Downloading ${file.key} stopped: the disk of the cache ${cache.root} is full.`
        : `Downloading ${file.key} from ${store.location} stopped: ${errorMessage(error)}`,
      {
        cause: error,
        hint: full
          ? 'Free space on that disk, or set DEVSNAP_CACHE_DIR (or --cache-dir) to a larger one; what was downloaded is kept.'
          : 'Run the same command again: the download resumes where it stopped.',
      },
    );
  }
  offset += downloaded;
  const sha256 = hash.digest('hex');
  if (offset !== file.bytes || sha256 !== file.sha256) {
    await rm(partial, { force: true });
    throw new SnapshotIntegrityError(
      `${file.key} in ${store.location} does not match its manifest (${offset} bytes, expected ${file.bytes}; sha256 ${sha256 === file.sha256 ? 'matches' : 'differs'}).`,
      { hint: 'The stored snapshot is damaged: export a new one or pull another (devsnap list).' },
    );
  }
  await rename(partial, path);
  return downloaded;
}
