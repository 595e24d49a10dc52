import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errorMessage, UsageError } from '../errors.js';
import { publicSigningKey } from './public-key.js';
import type { SealSignature, SnapshotSigner } from './snapshot-seal.js';

/**
 * Signs with a private key on this machine (PEM, Ed25519 or P-256), for `devsnap export
 * --signing-key`. The nightly pipeline signs with its KMS key instead: there the private key
 * never leaves KMS.
 */
export class PrivateKeySigner implements SnapshotSigner {
  readonly description: string;
  private readonly keyId: string;
  private readonly algorithm: SealSignature['algorithm'];

  constructor(
    private readonly privateKey: KeyObject,
    where: string,
  ) {
    const publicKey = publicSigningKey(createPublicKey(privateKey), where);
    this.keyId = publicKey.id;
    this.algorithm = publicKey.algorithm;
    this.description = `${where} (key ${publicKey.id})`;
  }

  static async fromFile(path: string): Promise<PrivateKeySigner> {
    let key: KeyObject;
    try {
      key = createPrivateKey(await readFile(path, 'utf8'));
    } catch (error) {
      throw new UsageError(`Cannot read a private signing key from ${path}: ${errorMessage(error)}`, {
        hint: 'Make one with: openssl genpkey -algorithm ed25519 -out signing.pem (then devsnap trust add on the public half).',
      });
    }
    return new PrivateKeySigner(key, `key file ${path}`);
  }

  async sign(message: Buffer): Promise<SealSignature> {
    // Ed25519 hashes inside the scheme; ECDSA signs the sha256 of the message, DER-encoded as KMS does.
    const value = sign(this.algorithm === 'ed25519' ? null : 'sha256', message, this.privateKey);
    return { algorithm: this.algorithm, keyId: this.keyId, value: value.toString('base64') };
  }
}
