import { z } from 'zod';
import { latestPointerSchema, snapshotPrefix } from '../manifest.js';
import { snapshotId } from '../manifest-fields.js';
import { requireSecureUrl } from '../store/secure-url.js';

/**
 * A shared snapshot: presigned URLs for its manifest and every file, so a laptop without AWS
 * credentials can `devsnap pull <url of this document>`. It carries its own `latest` pointer
 * (with the manifest's checksum) so the pull checks the manifest like any other.
 */
export const shareDocumentSchema = z
  .strictObject({
    format: z.literal('devsnap-share'),
    version: z.literal(1),
    snapshotId,
    /** ISO time after which the URLs stop working. */
    expiresAt: z.string(),
    latest: latestPointerSchema,
    /** Presigned GET URL by store key: https, or http to this machine (tests). */
    objects: z.record(
      z.string(),
      z.string().refine((url) => secure(url), 'is not an https:// URL'),
    ),
  })
  .superRefine((document, context) => {
    if (document.latest.snapshotId !== document.snapshotId) {
      context.addIssue({ code: 'custom', path: ['latest'], message: 'names another snapshot' });
    }
    // Only the shared snapshot's own files: a share cannot stand in for other snapshots or latest.json.
    for (const key of Object.keys(document.objects)) {
      if (!key.startsWith(snapshotPrefix(document.snapshotId)) || key.includes('/../')) {
        context.addIssue({
          code: 'custom',
          path: ['objects', key],
          message: 'is not a file of the shared snapshot',
        });
      }
    }
  });

function secure(url: string): boolean {
  try {
    requireSecureUrl(url, 'url');
    return true;
  } catch {
    return false;
  }
}

export type ShareDocument = z.infer<typeof shareDocumentSchema>;
