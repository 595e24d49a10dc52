import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { readManifest } from '../import/snapshot-reader.js';
import { manifestKey, snapshotFiles } from '../manifest.js';
import { textSha256 } from '../store/file-digest.js';
import type { S3SnapshotStore } from '../store/s3-snapshot-store.js';
import { sealKey } from '../trust/snapshot-seal.js';
import type { ShareDocument } from './share-document.js';

/** SigV4 presigned URLs last at most 7 days. */
const MAX_SHARE_SECONDS = 7 * 24 * 3600;

export interface ShareResult {
  readonly snapshotId: string;
  /** Give this to whoever should pull the snapshot: `devsnap pull <url>`. */
  readonly url: string;
  readonly expiresAt: string;
  readonly files: number;
}

/**
 * Shares a snapshot for a limited time: writes a share document of presigned URLs under
 * `shares/` in the store and returns a presigned URL to it. Nothing else is made public.
 */
export async function shareSnapshot(
  store: S3SnapshotStore,
  snapshot: string,
  expiresInSeconds: number,
  now = new Date(),
): Promise<ShareResult> {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > MAX_SHARE_SECONDS) {
    throw new UsageError(`A share lasts from 1 minute to 7 days (got ${expiresInSeconds} s).`, {
      hint: 'Pass e.g. --expires 24h or --expires 7d.',
    });
  }
  const { manifest, text } = await readManifest(store, snapshot);
  const key = manifestKey(manifest.snapshotId);
  const objects: Record<string, string> = {};
  for (const objectKey of [key, sealKey(manifest.snapshotId), ...snapshotFiles(manifest).map((f) => f.key)]) {
    objects[objectKey] = await store.presignGet(objectKey, expiresInSeconds);
  }
  const expiresAt = new Date(now.getTime() + expiresInSeconds * 1000).toISOString();
  const document: ShareDocument = {
    format: 'devsnap-share',
    version: 1,
    snapshotId: manifest.snapshotId,
    expiresAt,
    latest: {
      snapshotId: manifest.snapshotId,
      manifestKey: key,
      manifestSha256: textSha256(text),
      createdAt: manifest.createdAt,
    },
    objects,
  };
  const documentKey = `shares/${manifest.snapshotId}-${randomBytes(6).toString('hex')}.json`;
  await store.put(documentKey, `${JSON.stringify(document, null, 2)}\n`);
  return {
    snapshotId: manifest.snapshotId,
    url: await store.presignGet(documentKey, expiresInSeconds),
    expiresAt,
    files: Object.keys(objects).length,
  };
}

/** `30m`, `24h`, `7d` or plain seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`Cannot read the duration ${JSON.stringify(text)}.`, {
      hint: 'Use e.g. 30m, 24h or 7d.',
    });
  }
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
