import { UsageError } from '../errors.js';

/** Bytes a secret needs at least: 256 bits, as long as the HMAC-SHA256 key it becomes. */
export const MIN_SECRET_BYTES = 32;
/** Estimated bits (Shannon entropy of its characters × length) it needs at least. */
const MIN_SECRET_BITS = 100;
export const MAKE_A_SECRET = 'openssl rand -base64 48';

/**
 * Refuses an anonymisation secret that can be guessed. Whoever holds the secret can reverse a fake
 * by trying candidate values (every email in a leaked list, every name), so a guessable secret
 * makes every fake reversible: it must be long and random. Never names the value.
 */
export function checkSecretStrength(secret: string, from: string): void {
  const bytes = Buffer.byteLength(secret, 'utf8');
  const problem =
    bytes < MIN_SECRET_BYTES
      ? `is ${bytes} byte${bytes === 1 ? '' : 's'} long; it needs at least ${MIN_SECRET_BYTES}`
      : estimatedBits(secret) < MIN_SECRET_BITS
        ? 'has too little randomness (repeated or few distinct characters)'
        : null;
  if (problem) {
    throw new UsageError(
      `The anonymisation secret (${from}) ${problem}: fakes made with it could be reversed by trying candidate values.`,
      {
        hint: `Make one with \`${MAKE_A_SECRET}\`, store it (an environment variable or Secrets Manager) and keep it the same between runs.`,
      },
    );
  }
}

/** Shannon entropy of the secret's characters, times its length: a generous estimate of its bits. */
function estimatedBits(secret: string): number {
  const chars = [...secret];
  const counts = new Map<string, number>();
  for (const char of chars) counts.set(char, (counts.get(char) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * chars.length;
}
