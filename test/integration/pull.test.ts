import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotIntegrityError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { type Manifest, snapshotFiles } from '../../core/manifest.js';
import { pullSnapshot } from '../../core/pull/pull-snapshot.js';
import { inspectSnapshot } from '../../core/snapshot-catalog.js';
import type { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import type { TestDatabase } from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

describe('devsnap pull: a verified, resumable local cache', () => {
  let source: TestDatabase;
  let remote: TemporaryStore;
  let cacheDirectory: string;
  let manifest: Manifest;
  const largest = () => manifest.tables.flatMap((t) => t.files).sort((a, b) => b.bytes - a.bytes)[0]!;

  beforeAll(async () => {
    source = await createShopDatabase('pull_src');
    remote = await temporaryStore();
    // The cache is what is tested here, not anonymisation.
    await exportSnapshot({ databaseUrl: source.url, store: remote, config: { anonymise: { mode: 'warn' } } });
    manifest = await inspectSnapshot(remote, 'latest');
  });
  beforeEach(async () => {
    cacheDirectory = await mkdtemp(join(tmpdir(), 'devsnap-cache-'));
  });
  afterAll(async () => {
    await source.drop();
    await remote.remove();
  });

  it('downloads once, then nothing', async () => {
    const first = await pullSnapshot({ store: remote, cacheDirectory });
    expect(first.downloadedBytes).toBe(first.bytes);
    expect(first.files).toBe(snapshotFiles(manifest).length);
    const second = await pullSnapshot({ store: remote, cacheDirectory });
    expect(second.downloadedBytes).toBe(0);
    expect(await inspectSnapshot(second.cache, manifest.snapshotId)).toEqual(manifest);
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('fetches a truncated or tampered cached file again', async () => {
    const { cache } = await pullSnapshot({ store: remote, cacheDirectory });
    const file = largest();
    await truncate(cache.localPath(file.key), 10);
    const tampered = manifest.schema.preData;
    const text = await readFile(cache.localPath(tampered.key), 'utf8');
    await writeFile(cache.localPath(tampered.key), text.replace('CREATE', 'CREATf'));
    const again = await pullSnapshot({ store: remote, cacheDirectory });
    expect(again.downloadedBytes).toBe(file.bytes + tampered.bytes);
    expect(await readFile(cache.localPath(file.key))).toEqual(await readFile(remote.localPath(file.key)));
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('resumes an interrupted download where it stopped', async () => {
    const file = largest();
    const cut = Math.floor(file.bytes / 2);
    // A dropped connection cannot be made to happen with a real local store, so this one ends
    // the stream of the largest file half-way, as a network cut would.
    const flaky: LocalDirectoryStore = Object.create(remote, {
      get: {
        value: async (key: string) => {
          const body = await remote.get(key);
          if (key !== file.key) return body;
          return (async function* () {
            let sent = 0;
            for await (const chunk of body) {
              const room = cut - sent;
              if (room <= 0) break;
              const piece = chunk.subarray(0, room);
              sent += piece.byteLength;
              yield piece;
            }
            throw new Error('connection reset by peer');
          })();
        },
      },
    });
    await expect(pullSnapshot({ store: flaky, cacheDirectory, concurrency: 1 })).rejects.toThrow(
      new RegExp(`Downloading ${file.key.replaceAll('.', '\\.')} from .* stopped: connection reset by peer`),
    );
    // What the interrupted pull completed stays; the cut file continues from its partial bytes.
    let complete = 0;
    for (const cached of snapshotFiles(manifest)) {
      const size = await stat(join(cacheDirectory, cached.key)).then(
        (s) => s.size,
        () => -1,
      );
      if (size === cached.bytes) complete += cached.bytes;
    }
    expect(await stat(join(cacheDirectory, `${file.key}.download`)).then((s) => s.size)).toBe(cut);
    const resumed = await pullSnapshot({ store: remote, cacheDirectory });
    expect(resumed.downloadedBytes).toBe(resumed.bytes - complete - cut);
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('refuses a file that is damaged in the store itself', async () => {
    const damaged = await temporaryStore();
    try {
      await pullSnapshot({ store: remote, cacheDirectory: damaged.location });
      const file = largest();
      const bytes = await readFile(damaged.localPath(file.key));
      bytes[100] = (bytes[100] ?? 0) ^ 0xff;
      await writeFile(damaged.localPath(file.key), bytes);
      // A pulled cache is laid out like a store, without latest.json: name the snapshot.
      const pull = () => pullSnapshot({ store: damaged, snapshot: manifest.snapshotId, cacheDirectory });
      await expect(pull()).rejects.toBeInstanceOf(SnapshotIntegrityError);
      await expect(pull()).rejects.toThrow(/does not match its manifest/);
    } finally {
      await damaged.remove();
      await rm(cacheDirectory, { recursive: true, force: true });
    }
  });
});
