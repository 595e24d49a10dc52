import { DevsnapError, errorMessage, UsageError } from '../errors.js';
import type { SecretSpec } from './anonymise-config.js';
import { checkSecretStrength, MAKE_A_SECRET } from './secret-strength.js';

const DEFAULT_SECRET_ENV = 'DEVSNAP_SECRET';

/** Where the secret came from; recorded in the manifest (the secret itself never is). */
export type SecretSource = 'config' | 'env' | 'secrets-manager' | 'none';

/** The one Secrets Manager call devsnap makes; tests inject a client, production builds the SDK's. */
export interface SecretsManagerReader {
  getSecretString(secretId: string, region: string | undefined): Promise<string | undefined>;
}

export interface ResolvedSecret {
  /** null when none is configured and DEVSNAP_SECRET is unset: keyed rules then refuse to run. */
  readonly secret: string | null;
  readonly source: SecretSource;
  /** e.g. `env DEVSNAP_SECRET`, `secrets-manager arn:…`: names, never values. */
  readonly from: string;
  /** Advice to report (a literal secret in the config). */
  readonly warning?: string;
}

/**
 * Reads the anonymisation secret: a literal (discouraged: it sits in the repository), an
 * environment variable, or a Secrets Manager secret (its string, or one JSON field of it).
 */
export async function resolveSecret(
  spec: SecretSpec | undefined,
  options: { env: NodeJS.ProcessEnv; secretsManager?: SecretsManagerReader },
): Promise<ResolvedSecret> {
  const resolved = await readSecret(spec, options);
  if (resolved.secret !== null) checkSecretStrength(resolved.secret, resolved.from);
  return resolved;
}

async function readSecret(
  spec: SecretSpec | undefined,
  options: { env: NodeJS.ProcessEnv; secretsManager?: SecretsManagerReader },
): Promise<ResolvedSecret> {
  if (spec === undefined) {
    const value = options.env[DEFAULT_SECRET_ENV];
    return value
      ? { secret: value, source: 'env', from: `env ${DEFAULT_SECRET_ENV}` }
      : { secret: null, source: 'none', from: 'none' };
  }
  if (typeof spec === 'string') {
    return {
      secret: spec,
      source: 'config',
      from: 'config',
      warning:
        "anonymise.secret is written in the config: anyone who can read it can recompute the fakes. Use { env: 'DEVSNAP_SECRET' } or { secretsManager: 'arn:…' }.",
    };
  }
  if ('env' in spec) {
    const value = options.env[spec.env];
    if (!value) {
      throw new UsageError(`anonymise.secret: environment variable ${spec.env} is not set.`, {
        hint: `Set ${spec.env} to a long random string (\`${MAKE_A_SECRET}\`) and keep it the same between runs.`,
      });
    }
    return { secret: value, source: 'env', from: `env ${spec.env}` };
  }
  const reader = options.secretsManager ?? (await sdkSecretsManagerReader());
  let text: string | undefined;
  try {
    text = await reader.getSecretString(spec.secretsManager, spec.region);
  } catch (error) {
    throw new DevsnapError(
      `Could not read the anonymisation secret ${spec.secretsManager} from Secrets Manager: ${errorMessage(error)}`,
      {
        cause: error,
        hint: 'Check the ARN, the region and that this role may call secretsmanager:GetSecretValue.',
      },
    );
  }
  if (!text) {
    throw new UsageError(`Secrets Manager secret ${spec.secretsManager} has no string value.`, {
      hint: 'Store the anonymisation secret as a string (SecretString).',
    });
  }
  let secret = text;
  if (spec.field !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const field = (parsed as Record<string, unknown> | undefined)?.[spec.field];
    if (typeof field !== 'string' || field.length === 0) {
      throw new UsageError(
        `Secrets Manager secret ${spec.secretsManager} has no string field ${spec.field}.`,
        {
          hint: 'Store the secret as JSON with that field, or leave out `field` to use the whole string.',
        },
      );
    }
    secret = field;
  }
  return { secret, source: 'secrets-manager', from: `secrets-manager ${spec.secretsManager}` };
}

/**
 * A reader on the AWS SDK's client, loaded only when something names Secrets Manager; each call
 * makes its own client, in the secret's region when given.
 */
export async function sdkSecretsManagerReader(): Promise<SecretsManagerReader> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  return {
    async getSecretString(secretId, region) {
      const client = new SecretsManagerClient(region ? { region } : {});
      try {
        const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        return result.SecretString;
      } finally {
        client.destroy();
      }
    },
  };
}
