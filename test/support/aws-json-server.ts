import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './data-api-server.js';

/** An error as AWS JSON 1.1 sends it: the type in `__type`, HTTP 400. */
export class AwsApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export type AwsJsonAction = (body: Record<string, unknown>) => Record<string, unknown>;

export interface AwsJsonServer {
  /** http://127.0.0.1:port */
  readonly endpoint: string;
  stop(): Promise<void>;
}

const JSON_1_1 = 'application/x-amz-json-1.1';

/**
 * An HTTP server speaking the AWS JSON 1.1 protocol the SDK clients use (`X-Amz-Target:
 * <prefix><Action>`, a SigV4 Authorization header, errors as `{ __type, message }`), answering
 * `actions` by name, on 127.0.0.1. The signature is not checked.
 */
export async function startAwsJsonServer(
  targetPrefix: string,
  actions: Readonly<Record<string, AwsJsonAction>>,
): Promise<AwsJsonServer> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    readBody(request)
      .then((text) => {
        const target = String(request.headers['x-amz-target'] ?? '');
        const action = target.startsWith(targetPrefix)
          ? actions[target.slice(targetPrefix.length)]
          : undefined;
        if (request.method !== 'POST' || !action) {
          throw new AwsApiError('UnknownOperationException', `Unknown operation ${target || request.url}`);
        }
        if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
          throw new AwsApiError('MissingAuthenticationTokenException', 'Missing Authentication Token');
        }
        const result = action(JSON.parse(text || '{}') as Record<string, unknown>);
        response.writeHead(200, { 'content-type': JSON_1_1, 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify(result));
      })
      .catch((error: unknown) => {
        const apiError =
          error instanceof AwsApiError ? error : new AwsApiError('SerializationException', String(error));
        response.writeHead(400, { 'content-type': JSON_1_1, 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify({ __type: apiError.type, message: apiError.message }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
