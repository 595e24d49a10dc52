import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { AwsApiError, type AwsJsonAction, startAwsJsonServer } from './aws-json-server.js';
import { setEnvironment } from './process-environment.js';
import { SECRETS_MANAGER_CREDENTIALS } from './secrets-manager-server.js';

/**
 * A KMS-compatible HTTP server for tests: the two actions devsnap calls on an asymmetric signing
 * key, GetPublicKey and Sign, in the AWS JSON 1.1 protocol, so that the pipeline's signer runs
 * through the real SDK client. No KMS emulator is available here; this one keeps to what AWS
 * documents for an ECC_NIST_P256 SIGN_VERIFY key: ECDSA_SHA_256 only, RAW messages of at most
 * 4096 bytes hashed with SHA-256 and signed, DER-encoded signatures, the key found by id, ARN or
 * alias. (MessageType DIGEST, which devsnap never sends, is refused here: node cannot sign a
 * given digest without hashing it again.)
 */
export interface KmsServer {
  readonly endpoint: string;
  /** The signing key's ARN, as the stack would pass it to the finalize function. */
  readonly keyArn: string;
  readonly alias: string;
  /** Its public half, base64 DER (what `aws kms get-public-key` prints). */
  readonly publicKey: string;
  /** Every call, as `Action KeyId`, in order. */
  readonly calls: string[];
  /** Points the SDK's KMS clients here (AWS_ENDPOINT_URL_KMS, and credentials and a region if unset); returns a restorer. */
  useEnvironment(): () => void;
  stop(): Promise<void>;
}

export async function startKmsServer(): Promise<KmsServer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyId = randomUUID();
  const keyArn = `arn:aws:kms:us-east-1:123456789012:key/${keyId}`;
  const alias = 'alias/devsnap-snapshot-signing';
  const publicDer = publicKey.export({ format: 'der', type: 'spki' });
  const calls: string[] = [];

  const findKey = (body: Record<string, unknown>): KeyObject => {
    const id = body.KeyId;
    if (typeof id !== 'string' || id === '')
      throw new AwsApiError('ValidationException', 'KeyId is required.');
    if (![keyId, keyArn, alias, `arn:aws:kms:us-east-1:123456789012:${alias}`].includes(id)) {
      throw new AwsApiError('NotFoundException', `Key '${id}' does not exist`);
    }
    return privateKey;
  };

  const actions: Record<string, AwsJsonAction> = {
    GetPublicKey(body) {
      findKey(body);
      return {
        KeyId: keyArn,
        PublicKey: publicDer.toString('base64'),
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ['ECDSA_SHA_256'],
      };
    },
    Sign(body) {
      const key = findKey(body);
      if (body.SigningAlgorithm !== 'ECDSA_SHA_256') {
        throw new AwsApiError(
          'InvalidKeyUsageException',
          `SigningAlgorithm ${String(body.SigningAlgorithm)} is not supported by key ${keyArn}`,
        );
      }
      const message = Buffer.from(String(body.Message ?? ''), 'base64');
      if ((body.MessageType ?? 'RAW') !== 'RAW') {
        throw new AwsApiError('ValidationException', 'This test server signs RAW messages only.');
      }
      if (message.length === 0 || message.length > 4096) {
        throw new AwsApiError('ValidationException', 'Message must be between 1 and 4096 bytes.');
      }
      const signature = sign('sha256', message, { key, dsaEncoding: 'der' });
      return { KeyId: keyArn, Signature: signature.toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' };
    },
  };

  const logged = Object.fromEntries(
    Object.entries(actions).map(([name, action]): [string, AwsJsonAction] => [
      name,
      (body) => {
        calls.push(`${name} ${String(body.KeyId)}`);
        return action(body);
      },
    ]),
  );
  const { endpoint, stop } = await startAwsJsonServer('TrentService.', logged);
  return {
    endpoint,
    keyArn,
    alias,
    publicKey: publicDer.toString('base64'),
    calls,
    useEnvironment() {
      // Keeps credentials another test server set (S3's): this one does not check them.
      return setEnvironment({
        AWS_ENDPOINT_URL_KMS: endpoint,
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? SECRETS_MANAGER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY:
          process.env.AWS_SECRET_ACCESS_KEY ?? SECRETS_MANAGER_CREDENTIALS.secretAccessKey,
        AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      });
    },
    stop,
  };
}
