import {
  appendFile,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

  describe('a confined cache', () => {
    let outside: string;
    beforeEach(async () => {
      outside = await mkdtemp(join(tmpdir(), 'devsnap-outside-'));
    });

    it('replaces a link planted at a cached file instead of writing through it', async () => {
      const file = largest();
      const victim = join(outside, 'victim');
      await writeFile(victim, 'precious');
      const path = join(cacheDirectory, file.key);
      await mkdir(dirname(path), { recursive: true });
      await symlink(victim, path);
      await symlink(victim, `${path}.download`);
      const pulled = await pullSnapshot({ store: remote, cacheDirectory });
      expect(pulled.downloadedBytes).toBe(pulled.bytes);
      expect(await readFile(victim, 'utf8')).toBe('precious');
      expect((await lstat(path)).isFile()).toBe(true);
      expect(await readFile(path)).toEqual(await readFile(remote.localPath(file.key)));
      await rm(cacheDirectory, { recursive: true, force: true });
    });

    it('refuses a folder in the cache that is a link, and writes nothing where it points', async () => {
      await mkdir(join(cacheDirectory, 'snapshots', manifest.snapshotId), { recursive: true });
      await symlink(outside, join(cacheDirectory, 'snapshots', manifest.snapshotId, 'data'));
      await expect(pullSnapshot({ store: remote, cacheDirectory })).rejects.toThrow(
        /snapshots\/\S+\/data in the cache is a symbolic link or not a directory; devsnap does not follow links there\./,
      );
      expect(await readdir(outside)).toEqual([]);
      await rm(cacheDirectory, { recursive: true, force: true });
    });

    it('stops a download at the size the manifest records', async () => {
      // A real store whose file grew after the manifest was written (150 MiB more than recorded).
      const grown = await temporaryStore();
      await cp(remote.location, grown.location, { recursive: true });
      const file = largest();
      await appendFile(grown.localPath(file.key), Buffer.alloc(150 * 1024 * 1024, 1));
      let transferred = 0;
      try {
        await expect(
          pullSnapshot({
            store: grown,
            cacheDirectory,
            reporter: {
              report: (event) => {
                if (event.type === 'transfer') transferred = event.bytes;
              },
            },
          }),
        ).rejects.toThrow(
          new RegExp(
            `${file.key.replaceAll('.', '\\.')} in .* is larger than the ${file.bytes} bytes its manifest records; download stopped\\.`,
          ),
        );
        // Everything else of the snapshot is at most what was counted; the grown file never went past its size.
        expect(transferred).toBeLessThanOrEqual(manifest.totals.bytes + 100_000);
        await expect(stat(join(cacheDirectory, `${file.key}.download`))).rejects.toMatchObject({
          code: 'ENOENT',
        });
      } finally {
        await grown.remove();
        await rm(cacheDirectory, { recursive: true, force: true });
      }
    });

    it('makes its folders readable by the user only', async () => {
      await pullSnapshot({ store: remote, cacheDirectory });
      const folder = join(cacheDirectory, 'snapshots', manifest.snapshotId, 'data');
      expect((await stat(folder)).mode & 0o077).toBe(0);
      await rm(cacheDirectory, { recursive: true, force: true });
    });
  });
});
