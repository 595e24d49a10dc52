import { generateKeyPairSync } from 'node:crypto';
import { PrivateKeySigner } from '../../core/trust/private-key-signer.js';
import { parsePublicKey } from '../../core/trust/public-key.js';
import type { TrustPolicy } from '../../core/trust/trusted-keys.js';

/**
 * A signing key for tests that export and import, as a team with a pipeline would: snapshots are
 * signed, the importer trusts the key, and schemas with functions devsnap cannot check (Pagila's
 * rewards_report runs EXECUTE as SECURITY DEFINER) come through.
 */
const pair = generateKeyPairSync('ed25519');

export const testSigner = new PrivateKeySigner(pair.privateKey, 'test signing key');

export const testTrust: TrustPolicy = {
  keys: [parsePublicKey(pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'))],
};
