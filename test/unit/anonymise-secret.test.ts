import { describe, expect, it } from 'vitest';
import { resolveSecret, type SecretsManagerReader } from '../../core/anonymise/anonymise-secret.js';
import { DevsnapError, UsageError } from '../../core/errors.js';

/**
 * Secrets Manager is injected: these tests check what devsnap does with the answer (and with a
 * failure). test/integration/secrets-manager.test.ts makes the SDK call itself, against a local
 * server speaking Secrets Manager's protocol.
 */
function fakeSecretsManager(
  values: Record<string, string | undefined>,
): SecretsManagerReader & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async getSecretString(secretId, region) {
      calls.push(`${secretId}@${region ?? 'default'}`);
      if (!(secretId in values))
        throw new Error('ResourceNotFoundException: Secrets Manager can’t find the specified secret.');
      return values[secretId];
    },
  };
}

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:devsnap-abc';

describe('the anonymisation secret', () => {
  it('defaults to DEVSNAP_SECRET, and is absent (not an error) until a keyed rule needs it', async () => {
    expect(await resolveSecret(undefined, { env: { DEVSNAP_SECRET: 's3' } })).toEqual({
      secret: 's3',
      source: 'env',
      from: 'env DEVSNAP_SECRET',
    });
    expect(await resolveSecret(undefined, { env: {} })).toEqual({
      secret: null,
      source: 'none',
      from: 'none',
    });
  });

  it('reads a named environment variable and names it (never its value) when it is missing', async () => {
    expect(await resolveSecret({ env: 'MY_SECRET' }, { env: { MY_SECRET: 'abc' } })).toMatchObject({
      secret: 'abc',
      source: 'env',
    });
    const error = await resolveSecret({ env: 'MY_SECRET' }, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      'anonymise.secret: environment variable MY_SECRET is not set.',
    );
  });

  it('accepts a literal but warns that it sits in the config', async () => {
    const resolved = await resolveSecret('literal-secret', { env: {} });
    expect(resolved).toMatchObject({ secret: 'literal-secret', source: 'config' });
    expect(resolved.warning).toMatch(/anyone who can read it can recompute the fakes/);
    expect(resolved.warning).not.toContain('literal-secret');
  });

  it('reads Secrets Manager: the whole string, or one JSON field, in the given region', async () => {
    const client = fakeSecretsManager({ [ARN]: '{"devsnap": "from-sm", "other": 1}' });
    expect(await resolveSecret({ secretsManager: ARN }, { env: {}, secretsManager: client })).toMatchObject({
      secret: '{"devsnap": "from-sm", "other": 1}',
      source: 'secrets-manager',
      from: `secrets-manager ${ARN}`,
    });
    expect(
      await resolveSecret(
        { secretsManager: ARN, field: 'devsnap', region: 'eu-west-1' },
        { env: {}, secretsManager: client },
      ),
    ).toMatchObject({ secret: 'from-sm' });
    expect(client.calls).toEqual([`${ARN}@default`, `${ARN}@eu-west-1`]);
    await expect(
      resolveSecret({ secretsManager: ARN, field: 'missing' }, { env: {}, secretsManager: client }),
    ).rejects.toThrow(/has no string field missing/);
  });

  it('explains a Secrets Manager failure with the ARN and what to check', async () => {
    const error = await resolveSecret(
      { secretsManager: `${ARN}-gone` },
      { env: {}, secretsManager: fakeSecretsManager({}) },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevsnapError);
    expect((error as DevsnapError).message).toBe(
      `Could not read the anonymisation secret ${ARN}-gone from Secrets Manager: ResourceNotFoundException: Secrets Manager can’t find the specified secret.`,
    );
    expect((error as DevsnapError).hint).toMatch(/secretsmanager:GetSecretValue/);
  });
});
