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
// Made with `openssl rand -base64 48`, as the error message tells users to.
const STRONG = 'q3Vn7xK0pLr2Wd9sEaTy5mBcHf8uJg1N4oZiRvXe6QkYlMw0DtSbPhCjAuGnOqFs';
const OTHER = 'Zr8mT1xQv4Lk7Wn0Yd3Hs6Pb9Jc2Fg5Ue8Ao1Ri4Ky7Mt0Nw3Xe6Vj9Sl2Dq5Bh';

describe('the anonymisation secret', () => {
  it('defaults to DEVSNAP_SECRET, and is absent (not an error) until a keyed rule needs it', async () => {
    expect(await resolveSecret(undefined, { env: { DEVSNAP_SECRET: STRONG } })).toEqual({
      secret: STRONG,
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
    expect(await resolveSecret({ env: 'MY_SECRET' }, { env: { MY_SECRET: STRONG } })).toMatchObject({
      secret: STRONG,
      source: 'env',
    });
    const error = await resolveSecret({ env: 'MY_SECRET' }, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      'anonymise.secret: environment variable MY_SECRET is not set.',
    );
  });

  it('accepts a literal but warns that it sits in the config', async () => {
    const resolved = await resolveSecret(STRONG, { env: {} });
    expect(resolved).toMatchObject({ secret: STRONG, source: 'config' });
    expect(resolved.warning).toMatch(/anyone who can read it can recompute the fakes/);
    expect(resolved.warning).not.toContain(STRONG);
  });

  it('reads Secrets Manager: the whole string, or one JSON field, in the given region', async () => {
    const whole = `{"devsnap": "${OTHER}", "other": 1}`;
    const client = fakeSecretsManager({ [ARN]: whole });
    expect(await resolveSecret({ secretsManager: ARN }, { env: {}, secretsManager: client })).toMatchObject({
      secret: whole,
      source: 'secrets-manager',
      from: `secrets-manager ${ARN}`,
    });
    expect(
      await resolveSecret(
        { secretsManager: ARN, field: 'devsnap', region: 'eu-west-1' },
        { env: {}, secretsManager: client },
      ),
    ).toMatchObject({ secret: OTHER });
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

  it('refuses a short or guessable secret from any source, with the command that makes a good one', async () => {
    const client = fakeSecretsManager({ [ARN]: 'x'.repeat(40) });
    const cases: [Promise<unknown>, string][] = [
      [
        resolveSecret(undefined, { env: { DEVSNAP_SECRET: 'x' } }),
        'env DEVSNAP_SECRET) is 1 byte long; it needs at least 32',
      ],
      [resolveSecret({ env: 'K' }, { env: { K: 'correct-horse-battery' } }), 'env K) is 21 bytes long'],
      [
        resolveSecret('abcdabcdabcdabcdabcdabcdabcdabcdabcd', { env: {} }),
        'config) has too little randomness',
      ],
      [
        resolveSecret({ secretsManager: ARN }, { env: {}, secretsManager: client }),
        `secrets-manager ${ARN}) has too little randomness`,
      ],
    ];
    for (const [pending, expected] of cases) {
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain(`The anonymisation secret (${expected}`);
      expect((error as UsageError).message).not.toMatch(/correct-horse|abcdabcd|xxxx/);
      expect((error as UsageError).hint).toContain('`openssl rand -base64 48`');
    }
  });
});
