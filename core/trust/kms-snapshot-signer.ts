import { createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { DevsnapError, errorMessage } from '../errors.js';
import { publicSigningKey } from './public-key.js';
import type { SealSignature, SnapshotSigner } from './snapshot-seal.js';

/**
 * Signs seals with an AWS KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY): the private key never
 * leaves KMS, only the finalize function may call kms:Sign on it, and CloudTrail records each call.
 * The seal names the key by its public key's id, read once with kms:GetPublicKey.
 */
export class KmsSnapshotSigner implements SnapshotSigner {
  readonly description: string;
  private keyId: Promise<string> | undefined;

  constructor(
    private readonly kmsKeyId: string,
    private readonly client: KMSClient = new KMSClient({}),
  ) {
    this.description = `kms ${kmsKeyId}`;
  }

  async sign(message: Buffer): Promise<SealSignature> {
    const keyId = await this.publicKeyId();
    try {
      const { Signature } = await this.client.send(
        new SignCommand({
          KeyId: this.kmsKeyId,
          Message: message,
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      if (!Signature) throw new Error('KMS returned no signature');
      return { algorithm: 'ecdsa-p256-sha256', keyId, value: Buffer.from(Signature).toString('base64') };
    } catch (error) {
      throw signingError(this.kmsKeyId, 'kms:Sign', error);
    }
  }

  private publicKeyId(): Promise<string> {
    this.keyId ??= (async () => {
      try {
        const { PublicKey } = await this.client.send(new GetPublicKeyCommand({ KeyId: this.kmsKeyId }));
        if (!PublicKey) throw new Error('KMS returned no public key');
        const key = createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' });
        return publicSigningKey(key, `KMS key ${this.kmsKeyId}`).id;
      } catch (error) {
        this.keyId = undefined;
        throw signingError(this.kmsKeyId, 'kms:GetPublicKey', error);
      }
    })();
    return this.keyId;
  }
}

function signingError(kmsKeyId: string, action: string, error: unknown): DevsnapError {
  if (error instanceof DevsnapError) return error;
  return new DevsnapError(`Could not sign the snapshot with KMS key ${kmsKeyId}: ${errorMessage(error)}`, {
    cause: error,
    hint: `The key must be ECC_NIST_P256 for SIGN_VERIFY, and this role needs ${action} on it.`,
  });
}
