import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './data-api-server.js';
import { setEnvironment } from './process-environment.js';

/**
 * A Secrets-Manager-compatible HTTP server for tests: the one action devsnap calls,
 * GetSecretValue, in the AWS JSON 1.1 protocol the SDK speaks, so that tests go through the real
 * SDK client (endpoint resolution, signing, serialisation, error parsing) without a network.
 */
export interface SecretsManagerServer {
  /** http://127.0.0.1:port */
  readonly endpoint: string;
  /** The SecretId of every GetSecretValue call, in order (found or not). */
  readonly calls: string[];
  /**
   * Sets the variables the SDK reads (its Secrets Manager endpoint, dummy credentials, a region)
   * so that a client built with no options reaches this server; returns a function that restores
   * the previous values.
   */
  useEnvironment(): () => void;
  stop(): Promise<void>;
}

/** Dummy keys: the SDK must sign with something; this server does not check the signature. */
export const SECRETS_MANAGER_CREDENTIALS = {
  accessKeyId: 'DEVSNAPTEST',
  secretAccessKey: 'devsnap-test',
} as const;

const JSON_1_1 = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';

/** An error as AWS JSON 1.1 sends it: the type in `__type`, HTTP 400. */
class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the server on 127.0.0.1 holding `secrets` (SecretId → SecretString). A secret given by
 * ARN is found by its ARN or its name, as in AWS.
 */
export async function startSecretsManagerServer(
  secrets: Readonly<Record<string, string>>,
): Promise<SecretsManagerServer> {
  const created = Math.floor(Date.now() / 1000);
  const entries = Object.entries(secrets).map(([id, value], index) => ({
    arn: id.startsWith('arn:') ? id : `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-Ab12Cd`,
    name: id.startsWith('arn:') ? nameOfArn(id) : id,
    value,
    versionId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
  }));
  const calls: string[] = [];

  const getSecretValue = (body: Record<string, unknown>): Record<string, unknown> => {
    const id = body.SecretId;
    if (typeof id !== 'string' || id === '') {
      throw new ApiError('InvalidParameterException', 'You must provide a SecretId.');
    }
    calls.push(id);
    const secret = entries.find((entry) => entry.arn === id || entry.name === id);
    if (!secret) {
      throw new ApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.value,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: created,
    };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    readBody(request)
      .then((text) => {
        const target = String(request.headers['x-amz-target'] ?? '');
        if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
          throw new ApiError('UnknownOperationException', `Unknown operation ${target || request.url}`);
        }
        if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
          throw new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token');
        }
        const body = JSON.parse(text || '{}') as Record<string, unknown>;
        const action = target.slice(TARGET_PREFIX.length);
        if (action !== 'GetSecretValue') {
          throw new ApiError('UnknownOperationException', `Unknown operation ${target}`);
        }
        const result = getSecretValue(body);
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
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    calls,
    useEnvironment() {
      return setEnvironment({
        // The SDK's service-specific endpoint variable (serviceId "Secrets Manager"), honoured
        // by every client built from the default configuration, as devsnap's are.
        AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
        AWS_ACCESS_KEY_ID: SECRETS_MANAGER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: SECRETS_MANAGER_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      });
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `arn:aws:secretsmanager:region:account:secret:name-AbCdEf` → `name` (AWS adds six characters to the ARN). */
function nameOfArn(arn: string): string {
  return arn.slice(arn.indexOf(':secret:') + ':secret:'.length).replace(/-[A-Za-z0-9]{6}$/, '');
}
