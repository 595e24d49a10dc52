import { verify } from 'node:crypto';
import { SnapshotIntegrityError } from '../errors.js';
import { textSha256 } from '../store/file-digest.js';
import { MAX_SEAL_BYTES, type SnapshotSeal, sealMessage, sealSchema } from './snapshot-seal.js';
import type { TrustPolicy } from './trusted-keys.js';

/** What a seal said about the snapshot it sits in. */
export interface SealCheck {
  /**
   * `verified`: signed by a trusted key. `unchecked`: signed, but no key is trusted here, so the
   * signature proves nothing. `unsigned`: the digest chain only.
   */
  readonly signature: 'verified' | 'unchecked' | 'unsigned';
  /** The key that signed it, when signed. */
  readonly keyId: string | null;
}

/**
 * Checks a snapshot's seal against its manifest: the manifest is the one that was sealed, and, when
 * the user trusts any key, it carries a valid signature by one of them. Throws SnapshotIntegrityError
 * naming what is wrong; runs before any database is touched.
 */
export function checkSeal(options: {
  readonly sealText: string | null;
  readonly manifestText: string;
  readonly snapshotId: string;
  readonly trust: TrustPolicy;
}): SealCheck {
  const { snapshotId: id, trust } = options;
  const seal = parseSeal(options.sealText, id);
  if (seal.snapshotId !== id) {
    throw integrity(`The seal of snapshot ${id} belongs to snapshot ${seal.snapshotId} (moved or replaced).`);
  }
  if (seal.manifestSha256 !== textSha256(options.manifestText)) {
    throw integrity(
      `The manifest of snapshot ${id} was changed after it was sealed: its sha256 is not the one in seal.json.`,
    );
  }
  const { signature } = seal;
  if (trust.keys.length === 0) {
    return { signature: signature ? 'unchecked' : 'unsigned', keyId: signature?.keyId ?? null };
  }
  const trusted = trust.keys.map((key) => key.id).join(', ');
  if (!signature) {
    throw new SnapshotIntegrityError(
      `Snapshot ${id} is not signed, and you trust signing keys (${trusted}): refusing it.`,
      {
        hint: 'Pull snapshots your pipeline signed, or remove the keys (devsnap trust list / devsnap trust remove) to accept unsigned ones.',
      },
    );
  }
  const key = trust.keys.find((candidate) => candidate.id === signature.keyId);
  if (!key) {
    throw new SnapshotIntegrityError(
      `Snapshot ${id} is signed by key ${signature.keyId}, which you do not trust (trusted: ${trusted}).`,
      { hint: 'If it is your pipeline’s new key, add its public key: devsnap trust add <public key>.' },
    );
  }
  const message = sealMessage(id, seal.manifestSha256);
  const value = Buffer.from(signature.value, 'base64');
  const valid =
    signature.algorithm === key.algorithm &&
    verify(key.algorithm === 'ed25519' ? null : 'sha256', message, key.key, value);
  if (!valid) {
    throw new SnapshotIntegrityError(
      `The signature of snapshot ${id} does not verify against trusted key ${key.id}: it was changed after signing, or signed by another key.`,
      { hint: 'Do not import it. Export a new snapshot, or import another one (devsnap list).' },
    );
  }
  return { signature: 'verified', keyId: key.id };
}

function parseSeal(text: string | null, id: string): SnapshotSeal {
  if (text === null) {
    throw integrity(
      `Snapshot ${id} has no seal.json: it was written by an older devsnap, or its seal was removed.`,
    );
  }
  let json: unknown;
  try {
    json = Buffer.byteLength(text) <= MAX_SEAL_BYTES ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const parsed = sealSchema.safeParse(json);
  if (!parsed.success) throw integrity(`The seal.json of snapshot ${id} is not a valid devsnap seal.`);
  return parsed.data;
}

function integrity(message: string): SnapshotIntegrityError {
  return new SnapshotIntegrityError(message, {
    hint: 'Export a new snapshot, or import another one (devsnap list); do not edit snapshot files by hand.',
  });
}
