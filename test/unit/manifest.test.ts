import { describe, expect, it } from 'vitest';
import { SnapshotIntegrityError } from '../../core/errors.js';
import { newSnapshotId, parseManifest } from '../../core/manifest.js';

describe('manifest', () => {
  it('makes snapshot ids that sort by time', () => {
    const earlier = newSnapshotId(new Date('2026-01-02T03:04:05.678Z'));
    const later = newSnapshotId(new Date('2026-01-02T03:04:06.000Z'));
    expect(earlier).toMatch(/^20260102T030405Z-[0-9a-f]{6}$/);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it('names the manifest when it is not JSON', () => {
    expect(() => parseManifest('{"formatVersion": 1, "tabl', 'store/m.json')).toThrow(SnapshotIntegrityError);
    expect(() => parseManifest('{"formatVersion": 1, "tabl', 'store/m.json')).toThrow(
      /store\/m\.json is not valid JSON/,
    );
  });

  it('lists every problem of an invalid manifest at once', () => {
    const error = (() => {
      try {
        parseManifest(JSON.stringify({ formatVersion: 1, snapshotId: 'x', tables: 'nope' }), 'm.json');
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a failure');
    })();
    expect(error.message).toMatch(/m\.json is not a valid devsnap manifest/);
    expect(error.message).toMatch(/tables:/);
    expect(error.message).toMatch(/createdAt:/);
    expect(error.message).toMatch(/schema:/);
  });
});
