import { z } from 'zod';
import { latestPointerSchema } from '../manifest.js';

/**
 * A shared snapshot: presigned URLs for its manifest and every file, so a laptop without AWS
 * credentials can `devsnap pull <url of this document>`. It carries its own `latest` pointer
 * (with the manifest's checksum) so the pull checks the manifest like any other.
 */
export const shareDocumentSchema = z.object({
  format: z.literal('devsnap-share'),
  version: z.literal(1),
  snapshotId: z.string(),
  /** ISO time after which the URLs stop working. */
  expiresAt: z.string(),
  latest: latestPointerSchema,
  /** Presigned GET URL by store key. */
  objects: z.record(z.string(), z.string().url()),
});

export type ShareDocument = z.infer<typeof shareDocumentSchema>;
