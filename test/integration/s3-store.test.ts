import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotIntegrityError, StoreError, UsageError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { LATEST_KEY, type LatestPointer, manifestKey } from '../../core/manifest.js';
import { pullSnapshot } from '../../core/pull/pull-snapshot.js';
import { applyRetention } from '../../core/store/apply-retention.js';
import { publishLatest } from '../../core/store/publish-latest.js';
import type { S3SnapshotStore } from '../../core/store/s3-snapshot-store.js';
import { runDevsnap } from '../support/cli-harness.js';
import {
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../support/databases.js';
import { tableFingerprints } from '../support/fingerprints.js';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../support/s3-server.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const MIB = 1024 * 1024;
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function pointer(snapshotId: string, createdAt: string): LatestPointer {
  return { snapshotId, manifestKey: manifestKey(snapshotId), manifestSha256: sha256(snapshotId), createdAt };
}

let s3: TestS3Server;
let raw: S3Client;

beforeAll(async () => {
  s3 = await startS3Server();
  raw = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});
afterAll(async () => {
  raw?.destroy();
  await s3?.stop();
});

describe('S3SnapshotStore on the S3 protocol (s3rver)', () => {
  it('writes, lists across continuation pages, reads and deletes objects under its prefix only', async () => {
    const store = s3.store({ listPageSize: 2 });
    const neighbour = s3.store();
    await neighbour.put('snapshots/other/manifest.json', '{}');
    const keys = [
      'snapshots/a/manifest.json',
      'snapshots/a/data/t/part-00000.parquet',
      'snapshots/b/x',
      'latest.json',
    ];
    for (const key of keys)
      expect(await store.put(key, `body of ${key}`)).toMatchObject({ key, sha256: sha256(`body of ${key}`) });
    for (let i = 0; i < 5; i++) await store.put(`snapshots/c/f${i}`, new Uint8Array([i]));

    expect(store.location).toMatch(/^s3:\/\/devsnap-test\/run-[0-9a-f]+\/$/);
    expect(await store.list('')).toEqual(
      [...keys, ...[0, 1, 2, 3, 4].map((i) => `snapshots/c/f${i}`)].sort(),
    );
    expect(await store.list('snapshots/a/')).toEqual([
      'snapshots/a/data/t/part-00000.parquet',
      'snapshots/a/manifest.json',
    ]);
    expect(await store.readText('snapshots/b/x')).toBe('body of snapshots/b/x');
    expect(await store.readText('snapshots/missing')).toBeNull();
    const missing = store.get('snapshots/missing');
    await expect(missing).rejects.toThrow(StoreError);
    await expect(missing).rejects.toThrow(
      `s3://devsnap-test/${store.prefix}snapshots/missing does not exist.`,
    );
    expect(store.localPath()).toBeUndefined();

    await store.deletePrefix('snapshots/c/');
    await store.deletePrefix('snapshots/a/');
    expect(await store.list('')).toEqual(['latest.json', 'snapshots/b/x']);
    expect(await neighbour.list('')).toEqual(['snapshots/other/manifest.json']);
  });

  it('streams a body larger than a part through a multipart upload with its sha256 computed on the way', async () => {
    const store = s3.store({ partSizeBytes: 5 * MIB, queueSize: 2 });
    const body = randomBytes(13 * MIB);
    const before = await s3.requestCounts();
    let produced = 0;
    const stored = await store.put(
      'big.bin',
      (async function* () {
        for (let at = 0; at < body.length; at += 256 * 1024) {
          produced += 256 * 1024;
          yield body.subarray(at, at + 256 * 1024);
        }
      })(),
    );
    expect(produced).toBe(13 * MIB);
    expect(stored).toEqual({ key: 'big.bin', bytes: body.length, sha256: sha256(body) });
    expect((await readAll(await store.get('big.bin'))).equals(body)).toBe(true);
    // A resumed download reads the rest from an offset.
    const rest = await readAll(await store.getFrom('big.bin', 10 * MIB + 7));
    expect(rest.equals(body.subarray(10 * MIB + 7))).toBe(true);
    const after = await s3.requestCounts();
    expect(after.CreateMultipartUpload! - (before.CreateMultipartUpload ?? 0)).toBe(1);
    expect(after.UploadPart! - (before.UploadPart ?? 0)).toBe(3);
    expect(after.CompleteMultipartUpload! - (before.CompleteMultipartUpload ?? 0)).toBe(1);
  });

  it('leaves no object behind when the body fails part-way through the upload', async () => {
    const store = s3.store({ partSizeBytes: 5 * MIB });
    const failing = (async function* () {
      for (let i = 0; i < 7; i++) yield randomBytes(MIB);
      throw new Error('the encoder failed');
    })();
    const before = await s3.requestCounts();
    await expect(store.put('snapshots/x/data.parquet', failing)).rejects.toThrow(
      /Could not upload .*the encoder failed/,
    );
    expect(await store.list('')).toEqual([]);
    // The upload is aborted so S3 discards the parts already sent (s3rver only counts the request).
    expect((await s3.requestCounts()).AbortMultipartUpload).toBe((before.AbortMultipartUpload ?? 0) + 1);
  });

  it('refuses a read whose bytes do not match the sha256 recorded when it was written', async () => {
    const store = s3.store();
    await store.put('snapshots/s/manifest.json', '{"ok":true}');
    // What a tampered or damaged object looks like: other bytes under the original checksum.
    await raw.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `${store.prefix}snapshots/s/manifest.json`,
        Body: '{"ok":false}',
        Metadata: { sha256: sha256('{"ok":true}') },
      }),
    );
    await expect(store.readText('snapshots/s/manifest.json')).rejects.toThrow(SnapshotIntegrityError);
    await expect(readAll(await store.get('snapshots/s/manifest.json'))).rejects.toThrow(
      /does not match the sha256 recorded when it was written/,
    );
  });

  it('writes conditionally: only over the version it read, and only a new key when it read none', async () => {
    const store = s3.store();
    expect(await store.putIfVersion('latest.json', 'first', null)).toMatchObject({ bytes: 5 });
    expect(await store.putIfVersion('latest.json', 'again', null)).toBeNull();
    const first = await store.readVersioned('latest.json');
    expect(first?.text).toBe('first');
    expect(await store.putIfVersion('latest.json', 'second', first?.version ?? '')).not.toBeNull();
    expect(await store.putIfVersion('latest.json', 'stale', first?.version ?? '')).toBeNull();
    expect(await store.readText('latest.json')).toBe('second');
    expect(await store.putIfVersion('absent.json', 'x', first?.version ?? '')).toBeNull();
  });

  it('publishes latest.json so that concurrent exports never interleave and latest never moves back', async () => {
    const store = s3.store();
    const pointers = Array.from({ length: 8 }, (_, i) =>
      pointer(`20260101T00000${i}Z-00000${i}`, `2026-01-01T00:00:0${i}.000Z`),
    );
    // All at once, in shuffled order: each read-compare-write either wins or sees the winner.
    const results = await Promise.all(
      [3, 7, 0, 5, 1, 6, 2, 4].map((i) => publishLatest(store, pointers[i]!)),
    );
    const newest = pointers[7]!;
    expect(JSON.parse((await store.readText(LATEST_KEY)) ?? '')).toEqual(newest);
    expect(results[1]).toEqual({ moved: true, latest: newest });
    for (const result of results.filter((r) => !r.moved)) {
      expect(result.latest.createdAt > '2026-01-01T00:00:00.000Z').toBe(true);
    }
    const late = await publishLatest(store, pointers[2]!);
    expect(late).toEqual({ moved: false, latest: newest });
    expect(JSON.parse((await store.readText(LATEST_KEY)) ?? '')).toEqual(newest);
  });
});

describe('applyRetention', () => {
  async function seed(store: S3SnapshotStore, ids: string[], complete = true): Promise<void> {
    for (const id of ids) {
      await store.put(`snapshots/${id}/data/public.t/part-00000.parquet`, 'data');
      if (complete) await store.put(manifestKey(id), JSON.stringify({ snapshotId: id }));
    }
  }
  const ids = [
    '20260101T000000Z-aaaaaa',
    '20260105T000000Z-bbbbbb',
    '20260108T000000Z-cccccc',
    '20260110T000000Z-dddddd',
  ];
  const now = new Date('2026-01-10T12:00:00Z');

  it('keeps the newest N and what latest points at, and removes the rest whole', async () => {
    const store = s3.store();
    await seed(store, ids);
    await publishLatest(store, pointer(ids[0]!, '2026-01-01T00:00:00.000Z'));
    const result = await applyRetention(store, { keepNewest: 2, now });
    expect(result).toEqual({ kept: [ids[3], ids[2], ids[0]], deleted: [ids[1]], latest: ids[0] });
    expect((await store.list('snapshots/')).filter((key) => key.includes(ids[1]!))).toEqual([]);
    expect(await store.list(`snapshots/${ids[0]}/`)).toHaveLength(2);
  });

  it('keeps snapshots newer than D days, or within the newest N when both are given', async () => {
    const store = s3.store();
    await seed(store, ids);
    expect(await applyRetention(store, { newerThanDays: 3, now })).toMatchObject({
      kept: [ids[3], ids[2]],
      deleted: [ids[1], ids[0]],
      latest: null,
    });
    const both = s3.store();
    await seed(both, ids);
    expect(await applyRetention(both, { newerThanDays: 1, keepNewest: 3, now })).toMatchObject({
      kept: [ids[3], ids[2], ids[1]],
      deleted: [ids[0]],
    });
  });

  it('removes abandoned partial snapshots but not ones young enough to be still running', async () => {
    const store = s3.store();
    await seed(store, [ids[3]!]);
    await seed(store, ['20260109T000000Z-eeeeee', '20260110T110000Z-ffffff'], false);
    const result = await applyRetention(store, { keepNewest: 1, now });
    expect(result.deleted).toEqual(['20260109T000000Z-eeeeee']);
    expect(await store.list('snapshots/20260110T110000Z-ffffff/')).toHaveLength(1);
  });

  it('refuses a policy that keeps nothing or makes no sense, naming every problem', async () => {
    const store = s3.store();
    await expect(applyRetention(store, {})).rejects.toThrow(UsageError);
    await expect(applyRetention(store, { keepNewest: 0, newerThanDays: -1 })).rejects.toThrow(
      'Invalid retention policy: keepNewest must be a whole number ≥ 1 (got 0); newerThanDays must be > 0 (got -1).',
    );
  });
});

describe('export to S3 and import from it', () => {
  let source: TestDatabase;
  let cache: string;
  let restoreEnv: () => void;
  const previousCache = process.env.DEVSNAP_CACHE_DIR;

  beforeAll(async () => {
    source = await createShopDatabase('s3_src');
    cache = await mkdtemp(join(tmpdir(), 'devsnap-cache-'));
    process.env.DEVSNAP_CACHE_DIR = cache;
    restoreEnv = s3.useEnvironment();
  });
  afterAll(async () => {
    restoreEnv?.();
    if (previousCache === undefined) delete process.env.DEVSNAP_CACHE_DIR;
    else process.env.DEVSNAP_CACHE_DIR = previousCache;
    await source?.drop();
    await rm(cache, { recursive: true, force: true });
  });

  it('imports exactly the exported rows after downloading and checking every file', async () => {
    const store = s3.store({ partSizeBytes: 5 * MIB });
    const { snapshotId } = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config: { anonymise: { mode: 'warn' } },
    });
    const keys = await store.list('');
    expect(keys[0]).toBe(LATEST_KEY);
    expect(keys).toContain(`snapshots/${snapshotId}/data/public.users/part-00000.parquet`);

    const target = uniqueDatabaseName('s3_import');
    try {
      const phases: string[] = [];
      const result = await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        confirm: async () => true,
        reporter: { report: (event) => event.type === 'phase' && phases.push(event.phase) },
      });
      expect(result).toMatchObject({ snapshotId, totalRows: 2951 });
      expect(phases.indexOf('pull')).toBeGreaterThanOrEqual(0);
      expect(phases.indexOf('pull')).toBeLessThan(phases.indexOf('import'));
      expect(await withDatabase(target, tableFingerprints)).toEqual(await tableFingerprints(source.client));
      expect((await readdir(join(cache, 'snapshots', snapshotId))).sort()).toEqual([
        'data',
        'manifest.json',
        'schema',
        'seal.json',
      ]);
    } finally {
      await dropDatabase(target);
    }
  });

  it('refuses to import a snapshot whose data file changed in S3, before touching the database', async () => {
    const store = s3.store();
    const { snapshotId } = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config: { anonymise: { mode: 'warn' } },
    });
    await raw.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `${store.prefix}snapshots/${snapshotId}/data/public.users/part-00000.parquet`,
        Body: 'not parquet',
      }),
    );
    const target = uniqueDatabaseName('s3_tampered');
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store, confirm: async () => true }),
    ).rejects.toThrow(
      /public\.users\/part-00000\.parquet in s3:\/\/.* does not match its manifest \(11 bytes, expected \d+; sha256 differs\)/,
    );
    const { rows } = await source.client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target]);
    expect(rows).toEqual([]);
  });

  it('pulls a snapshot from S3 into the local cache, then transfers nothing the second time', async () => {
    const store = s3.store();
    const { snapshotId } = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config: { anonymise: { mode: 'warn' } },
    });
    const cacheDirectory = await mkdtemp(join(tmpdir(), 'devsnap-pull-'));
    try {
      const first = await pullSnapshot({ store, cacheDirectory });
      expect(first).toMatchObject({ snapshotId });
      expect(first.downloadedBytes).toBe(first.bytes);
      const second = await pullSnapshot({ store, cacheDirectory });
      expect(second.downloadedBytes).toBe(0);
    } finally {
      await rm(cacheDirectory, { recursive: true, force: true });
    }
  });

  it('works from the CLI with --store s3://bucket/prefix', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'devsnap-cli-s3-'));
    const config = join(directory, 'devsnap.config.mjs');
    await writeFile(config, "export default { anonymise: { mode: 'warn' } };\n");
    const location = `s3://${s3.bucket}/cli-${randomBytes(3).toString('hex')}`;
    const env = { DEVSNAP_S3_ENDPOINT: s3.endpoint };
    const target = uniqueDatabaseName('s3_cli');
    try {
      const exported = await runDevsnap(
        ['export', '--database-url', source.url, '--store', location, '--config', config, '--json'],
        { env },
      );
      expect(exported.stderr).toBe('');
      expect(exported.code).toBe(0);
      const { snapshotId } = JSON.parse(exported.stdout) as { snapshotId: string };
      const listed = await runDevsnap(['list', '--store', location, '--json'], { env });
      expect(JSON.parse(listed.stdout)).toMatchObject({
        store: `${location}/`,
        snapshots: [{ snapshotId, latest: true }],
      });
      const imported = await runDevsnap(
        ['import', '--store', location, '--database-url', serverUrl(target), '--yes', '--json'],
        { env },
      );
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ snapshotId, totalRows: 2951 });
    } finally {
      await dropDatabase(target);
      await rm(directory, { recursive: true, force: true });
    }
  });
});
