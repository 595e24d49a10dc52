import { z } from 'zod';
import { snapshotPrefix } from '../manifest.js';
import { sha256Hex, snapshotId } from '../manifest-fields.js';
import type { SealAlgorithm } from './public-key.js';

/**
 * seal.json, beside every snapshot's manifest: the manifest's sha256 (whose file digests cover
 * every other file: the digest chain), and, when the exporter has a signing key, a signature over
 * the snapshot id and that digest. Every snapshot carries its own, so an older snapshot is checked
 * as well as `latest`.
 */
export const sealSchema = z.strictObject({
  format: z.literal('devsnap-seal'),
  version: z.literal(1),
  snapshotId,
  manifestSha256: sha256Hex,
  signature: z
    .strictObject({
      algorithm: z.enum(['ecdsa-p256-sha256', 'ed25519']),
      /** Which key signed: see PublicSigningKey.id. */
      keyId: z.string().regex(/^[0-9a-f]{16}$/, 'not a key id'),
      /** base64: DER for ECDSA (as KMS returns it), 64 bytes for Ed25519. */
      value: z.string().regex(/^[A-Za-z0-9+/]{1,200}={0,2}$/, 'not base64'),
    })
    .nullable(),
});

export type SnapshotSeal = z.infer<typeof sealSchema>;
export type SealSignature = NonNullable<SnapshotSeal['signature']>;

export const sealKey = (id: string): string => `${snapshotPrefix(id)}seal.json`;

/** A seal is a few hundred bytes; anything much larger is not one. */
export const MAX_SEAL_BYTES = 64 * 1024;

/**
 * The bytes a signature covers. The snapshot id is part of it, so a signed manifest moved under
 * another id (to pass for a newer snapshot) no longer verifies.
 */
export function sealMessage(id: string, manifestSha256: string): Buffer {
  return Buffer.from(`devsnap-seal-v1\n${id}\n${manifestSha256}\n`, 'utf8');
}

/** Signs seals: a KMS key in the pipeline, a private key file for `devsnap export --signing-key`. */
export interface SnapshotSigner {
  /** e.g. `kms arn:aws:kms:…` or `key file ./signing.pem`: names, never key material. */
  readonly description: string;
  sign(message: Buffer): Promise<SealSignature>;
}

export type { SealAlgorithm };
