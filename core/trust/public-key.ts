import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';

/** The signature schemes a seal may carry, by the kind of key that made it. */
export type SealAlgorithm = 'ecdsa-p256-sha256' | 'ed25519';

/** A public key a developer trusts to sign snapshots. */
export interface PublicSigningKey {
  /** First 16 hex digits of the sha256 of the key's DER (SubjectPublicKeyInfo): what seals name. */
  readonly id: string;
  readonly algorithm: SealAlgorithm;
  /** DER SubjectPublicKeyInfo in base64: what `aws kms get-public-key` prints. */
  readonly spki: string;
  readonly key: KeyObject;
}

/**
 * Reads a public key in any form people have one in: PEM (`openssl pkey -pubout`), or the base64
 * DER SubjectPublicKeyInfo that `aws kms get-public-key --query PublicKey --output text` prints.
 * Only P-256 (KMS ECC_NIST_P256) and Ed25519 keys sign seals.
 */
export function parsePublicKey(text: string, where = 'the key'): PublicSigningKey {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(base64Only(trimmed), 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new UsageError(`${where} is not a public key (PEM, or base64 DER as AWS KMS prints it).`, {
      hint: 'Get the pipeline key with: aws kms get-public-key --key-id <SnapshotSigningKeyArn> --query PublicKey --output text',
    });
  }
  return publicSigningKey(key, where);
}

export function publicSigningKey(key: KeyObject, where = 'the key'): PublicSigningKey {
  const algorithm = sealAlgorithm(key);
  if (!algorithm) {
    throw new UsageError(
      `${where} is a ${describe(key)} key; seals are signed with P-256 (ECDSA) or Ed25519 keys.`,
      {
        hint: 'Use the public key of the pipeline KMS key (ECC_NIST_P256), or an Ed25519 key.',
      },
    );
  }
  const der = key.export({ format: 'der', type: 'spki' });
  return Object.freeze({ id: keyIdOf(der), algorithm, spki: der.toString('base64'), key });
}

export function keyIdOf(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex').slice(0, 16);
}

export function sealAlgorithm(key: KeyObject): SealAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ecdsa-p256-sha256';
  }
  return undefined;
}

function describe(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? key.type}${curve ? ` ${curve}` : ''}`;
}

function base64Only(text: string): string {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new Error('not base64');
  return compact;
}
