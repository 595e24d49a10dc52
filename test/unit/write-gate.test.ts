import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import { hasConditionalWrites } from '../../core/store/snapshot-store.js';
import { writeGate } from '../../core/store/write-gate.js';

describe('writeGate: an interrupted export writes nothing after its folder is removed', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'devsnap-gate-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes through until closed, then refuses every write and creates no folder', async () => {
    const gate = writeGate(new LocalDirectoryStore(directory));
    await gate.store.put('snapshots/a/manifest.json', '{}');
    expect(await gate.store.list('')).toEqual(['snapshots/a/manifest.json']);

    gate.close();
    await gate.store.deletePrefix('snapshots/a/');
    await expect(gate.store.put('snapshots/a/data/t.parquet', 'late part')).rejects.toThrow(
      'The export was interrupted; nothing more is written.',
    );
    // The late write did not bring the folder back (a store's put creates its folders).
    expect(await readdir(join(directory, 'snapshots'))).toEqual([]);
    // Reads and deletes still work, and the store is still the same kind of store.
    expect(await gate.store.readText('snapshots/a/manifest.json')).toBeNull();
    expect(gate.store.location).toBe(directory);
    expect(gate.store.localPath('x')).toBe(join(directory, 'x'));
    expect(hasConditionalWrites(gate.store)).toBe(hasConditionalWrites(new LocalDirectoryStore(directory)));
  });
});
