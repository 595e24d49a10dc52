import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../core/errors.js';
import { LocalDirectoryStore } from '../../core/store/local-directory-store.js';

describe('LocalDirectoryStore', () => {
  let directory: string;
  let store: LocalDirectoryStore;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'devsnap-store-'));
    store = new LocalDirectoryStore(directory);
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes streamed objects and reports their size and sha256', async () => {
    const parts = [Buffer.from('hello '), Buffer.from('world')];
    const stored = await store.put(
      'snapshots/a/data/x.parquet',
      (async function* () {
        yield* parts;
      })(),
    );
    expect(stored).toEqual({
      key: 'snapshots/a/data/x.parquet',
      bytes: 11,
      sha256: createHash('sha256').update('hello world').digest('hex'),
    });
    expect(await readFile(join(directory, 'snapshots/a/data/x.parquet'), 'utf8')).toBe('hello world');
    expect(await store.readText('snapshots/a/data/x.parquet')).toBe('hello world');
  });

  it('leaves no object and no temporary file when the body fails half-way', async () => {
    const failing = (async function* () {
      yield Buffer.from('partial');
      throw new Error('source went away');
    })();
    await expect(store.put('snapshots/b/file', failing)).rejects.toThrow(/source went away/);
    expect(await store.list('snapshots/')).toEqual([]);
    expect(await readdir(join(directory, 'snapshots/b'))).toEqual([]);
  });

  it('lists keys under a prefix, sorted, and deletes a prefix', async () => {
    await store.put('snapshots/2/manifest.json', '{}');
    await store.put('snapshots/1/manifest.json', '{}');
    await store.put('latest.json', '{}');
    expect(await store.list('snapshots/')).toEqual([
      'snapshots/1/manifest.json',
      'snapshots/2/manifest.json',
    ]);
    await store.deletePrefix('snapshots/1/');
    expect(await store.list('')).toEqual(['latest.json', 'snapshots/2/manifest.json']);
  });

  it('returns null for a missing object and refuses keys outside the store', async () => {
    expect(await store.readText('nope.json')).toBeNull();
    await expect(store.get('nope.json')).rejects.toThrow(/does not exist/);
    expect(() => store.localPath('../escape')).toThrow(StoreError);
  });
});
