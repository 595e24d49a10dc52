import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './data-api-server.js';
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

const JSON_1_1 = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'TrentService.';

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
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
    if (typeof id !== 'string' || id === '') throw new ApiError('ValidationException', 'KeyId is required.');
    if (![keyId, keyArn, alias, `arn:aws:kms:us-east-1:123456789012:${alias}`].includes(id)) {
      throw new ApiError('NotFoundException', `Key '${id}' does not exist`);
    }
    return privateKey;
  };

  const actions: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
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
        throw new ApiError(
          'InvalidKeyUsageException',
          `SigningAlgorithm ${String(body.SigningAlgorithm)} is not supported by key ${keyArn}`,
        );
      }
      const message = Buffer.from(String(body.Message ?? ''), 'base64');
      if ((body.MessageType ?? 'RAW') !== 'RAW') {
        throw new ApiError('ValidationException', 'This test server signs RAW messages only.');
      }
      if (message.length === 0 || message.length > 4096) {
        throw new ApiError('ValidationException', 'Message must be between 1 and 4096 bytes.');
      }
      const signature = sign('sha256', message, { key, dsaEncoding: 'der' });
      return { KeyId: keyArn, Signature: signature.toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' };
    },
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    readBody(request)
      .then((text) => {
        const target = String(request.headers['x-amz-target'] ?? '');
        const action = actions[target.slice(TARGET_PREFIX.length)];
        if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX) || !action) {
          throw new ApiError('UnknownOperationException', `Unknown operation ${target || request.url}`);
        }
        if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
          throw new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token');
        }
        const body = JSON.parse(text || '{}') as Record<string, unknown>;
        calls.push(`${target.slice(TARGET_PREFIX.length)} ${String(body.KeyId)}`);
        const result = action(body);
        response.writeHead(200, { 'content-type': JSON_1_1, 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify(result));
      })
      .catch((error: unknown) => {
        const apiError =
          error instanceof ApiError ? error : new ApiError('SerializationException', String(error));
        response.writeHead(400, { 'content-type': JSON_1_1, 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify({ __type: apiError.type, message: apiError.message }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
