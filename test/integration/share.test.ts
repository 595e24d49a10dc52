import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import type { ShareDocument } from '../../core/share/share-document.js';
import { parseDuration, shareSnapshot } from '../../core/share/share-snapshot.js';
import { HttpSnapshotStore } from '../../core/store/http-snapshot-store.js';
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
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { createShopDatabase } from '../support/shop-fixture.js';

describe('devsnap share: a time-limited link for laptops without AWS credentials', () => {
  let s3: TestS3Server;
  let store: S3SnapshotStore;
  let source: TestDatabase;
  let cacheDirectory: string;
  let snapshotId: string;
  let link: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    store = s3.store();
    source = await createShopDatabase('share_src');
    // The link is what is tested here, not anonymisation.
    snapshotId = (
      await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } })
    ).snapshotId;
    link = (await shareSnapshot(store, 'latest', 3600)).url;
    cacheDirectory = await mkdtemp(join(tmpdir(), 'devsnap-share-cache-'));
  });
  afterAll(async () => {
    await source?.drop();
    await s3?.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('pulls through the link with no AWS credentials, once', async () => {
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*shares\/.*X-Amz-Signature=/);
    const first = await runDevsnap(['pull', link, '--cache-dir', cacheDirectory, '--json'], { env: {} });
    expect(first.code).toBe(0);
    const pulled = JSON.parse(first.stdout);
    expect(pulled).toMatchObject({ ok: true, snapshotId });
    expect(pulled.downloadedBytes).toBe(pulled.bytes);
    const second = JSON.parse(
      (await runDevsnap(['pull', link, '--cache-dir', cacheDirectory, '--json'])).stdout,
    );
    expect(second.downloadedBytes).toBe(0);
  });

  it('imports through the link, row for row', async () => {
    const target = uniqueDatabaseName('share_dst');
    try {
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store: new HttpSnapshotStore(link),
        cacheDirectory,
        confirm: async () => true,
      });
      expect(await withDatabase(target, tableFingerprints)).toEqual(await tableFingerprints(source.client));
    } finally {
      await dropDatabase(target);
    }
  });

  it('says when a link has expired or was changed, and refuses impossible lifetimes', async () => {
    const later = () => new Date(Date.now() + 2 * 3600 * 1000);
    await expect(pullShared(new HttpSnapshotStore(link, later))).rejects.toThrow(
      new RegExp(`This share of snapshot ${snapshotId} expired at `),
    );
    // s3rver does not check presigned signatures, so a withdrawn share stands in for a refused link.
    const withdrawn = (await shareSnapshot(store, 'latest', 600)).url;
    await store.deletePrefix('shares/');
    await expect(pullShared(new HttpSnapshotStore(withdrawn))).rejects.toThrow(
      /Downloading the share document failed with HTTP 404\./,
    );
    expect(parseDuration('24h')).toBe(86400);
    expect(parseDuration('7d')).toBe(604800);
    await expect(shareSnapshot(store, 'latest', parseDuration('8d'))).rejects.toThrow(
      /A share lasts from 1 minute to 7 days/,
    );
    const local = await runDevsnap(['share', '--store', cacheDirectory]);
    expect(local).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Only snapshots in S3 can be shared.'),
    });
  });

  it('refuses plain http to another machine, in the link and in the document, before downloading', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'devsnap-share-http-'));
    const remote = await runDevsnap([
      'pull',
      'http://snapshots.example.com/share.json',
      '--cache-dir',
      empty,
    ]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(
      /^devsnap: The share link must use https:\/\/ \(got http:\/\/snapshots\.example\.com\)\./,
    );
    // A document served from this machine whose presigned URLs were swapped for http elsewhere, or
    // that names files outside the shared snapshot.
    const shared = await fetch((await shareSnapshot(store, 'latest', 600)).url);
    const genuine = (await shared.json()) as ShareDocument;
    const [firstKey] = Object.keys(genuine.objects);
    const variants = [
      { ...genuine, objects: { ...genuine.objects, [firstKey as string]: 'http://evil.example.com/x' } },
      { ...genuine, objects: { ...genuine.objects, 'latest.json': genuine.objects[firstKey as string] } },
    ];
    const server = createServer((request, response) => {
      response.end(JSON.stringify(variants[Number(request.url?.slice(1))]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(pullShared(new HttpSnapshotStore(`${base}/0`))).rejects.toThrow(
        /is not a devsnap share document \(objects\.snapshots\/.*: is not an https:\/\/ URL\)/,
      );
      await expect(pullShared(new HttpSnapshotStore(`${base}/1`))).rejects.toThrow(
        /is not a devsnap share document \(objects\.latest\.json: is not a file of the shared snapshot\)/,
      );
      expect(await readdir(empty)).toEqual([]);
    } finally {
      server.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  async function pullShared(shared: HttpSnapshotStore): Promise<unknown> {
    const directory = await mkdtemp(join(tmpdir(), 'devsnap-share-bad-'));
    try {
      const { pullSnapshot } = await import('../../core/pull/pull-snapshot.js');
      return await pullSnapshot({ store: shared, cacheDirectory: directory });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }
});
