import { AwsApiError, startAwsJsonServer } from './aws-json-server.js';
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
      throw new AwsApiError('InvalidParameterException', 'You must provide a SecretId.');
    }
    calls.push(id);
    const secret = entries.find((entry) => entry.arn === id || entry.name === id);
    if (!secret) {
      throw new AwsApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
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

  const { endpoint, stop } = await startAwsJsonServer('secretsmanager.', { GetSecretValue: getSecretValue });

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
    stop,
  };
}

/** `arn:aws:secretsmanager:region:account:secret:name-AbCdEf` → `name` (AWS adds six characters to the ARN). */
function nameOfArn(arn: string): string {
  return arn.slice(arn.indexOf(':secret:') + ':secret:'.length).replace(/-[A-Za-z0-9]{6}$/, '');
}
