import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotIntegrityError, UsageError } from '../../core/errors.js';
import { textSha256 } from '../../core/store/file-digest.js';
import { checkSeal } from '../../core/trust/check-seal.js';
import { PrivateKeySigner } from '../../core/trust/private-key-signer.js';
import { parsePublicKey } from '../../core/trust/public-key.js';
import { NO_TRUSTED_KEYS, resolveTrust, TrustFile, type TrustPolicy } from '../../core/trust/trusted-keys.js';
import { sealText } from '../../core/trust/write-seal.js';

const ID = '20260102T030405Z-0a1b2c';
const MANIFEST = '{"formatVersion":1}\n';

function keyPair(type: 'ed25519' | 'p256') {
  const pair =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    signer: new PrivateKeySigner(pair.privateKey, `test ${type} key`),
    publicKey: parsePublicKey(spki),
    pem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    spki,
  };
}

const trusting = (...keys: ReturnType<typeof keyPair>[]): TrustPolicy => ({
  keys: keys.map((k) => k.publicKey),
});

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotIntegrityError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('snapshot seals', () => {
  for (const type of ['ed25519', 'p256'] as const) {
    it(`verifies a ${type} signature, and refuses it once the manifest or the id changes`, async () => {
      const key = keyPair(type);
      const seal = await sealText(ID, textSha256(MANIFEST), key.signer);
      expect(
        checkSeal({ sealText: seal, manifestText: MANIFEST, snapshotId: ID, trust: trusting(key) }),
      ).toEqual({
        signature: 'verified',
        keyId: key.publicKey.id,
      });
      // Edited without resealing: the digest no longer matches.
      expect(
        refusal(() =>
          checkSeal({ sealText: seal, manifestText: `${MANIFEST} `, snapshotId: ID, trust: trusting(key) }),
        ),
      ).toMatch(/was changed after it was sealed/);
      // Resealed (digest recomputed) without the private key: the signature no longer verifies.
      const resealed = JSON.parse(seal);
      resealed.manifestSha256 = textSha256(`${MANIFEST} `);
      expect(
        refusal(() =>
          checkSeal({
            sealText: JSON.stringify(resealed),
            manifestText: `${MANIFEST} `,
            snapshotId: ID,
            trust: trusting(key),
          }),
        ),
      ).toMatch(
        new RegExp(`The signature of snapshot ${ID} does not verify against trusted key ${key.publicKey.id}`),
      );
      // Moved under another (newer) id.
      const moved = { ...JSON.parse(seal), snapshotId: '20990101T000000Z-ffffff' };
      expect(
        refusal(() =>
          checkSeal({
            sealText: JSON.stringify(moved),
            manifestText: MANIFEST,
            snapshotId: '20990101T000000Z-ffffff',
            trust: trusting(key),
          }),
        ),
      ).toMatch(/does not verify/);
    });
  }

  it('refuses an unsigned seal, and one signed by a key nobody trusts, only when a key is trusted', async () => {
    const trusted = keyPair('ed25519');
    const stranger = keyPair('p256');
    const unsigned = await sealText(ID, textSha256(MANIFEST), undefined);
    const foreign = await sealText(ID, textSha256(MANIFEST), stranger.signer);
    const check = (sealText: string, trust: TrustPolicy) =>
      checkSeal({ sealText, manifestText: MANIFEST, snapshotId: ID, trust });
    expect(check(unsigned, NO_TRUSTED_KEYS)).toEqual({ signature: 'unsigned', keyId: null });
    expect(check(foreign, NO_TRUSTED_KEYS)).toEqual({ signature: 'unchecked', keyId: stranger.publicKey.id });
    expect(refusal(() => check(unsigned, trusting(trusted)))).toBe(
      `Snapshot ${ID} is not signed, and you trust signing keys (${trusted.publicKey.id}): refusing it.`,
    );
    expect(refusal(() => check(foreign, trusting(trusted)))).toBe(
      `Snapshot ${ID} is signed by key ${stranger.publicKey.id}, which you do not trust (trusted: ${trusted.publicKey.id}).`,
    );
  });

  it('refuses a missing, oversized or malformed seal, and one with fields it does not know', async () => {
    const good = JSON.parse(await sealText(ID, textSha256(MANIFEST), undefined));
    const check = (sealText: string | null) =>
      checkSeal({ sealText, manifestText: MANIFEST, snapshotId: ID, trust: NO_TRUSTED_KEYS });
    expect(refusal(() => check(null))).toMatch(/has no seal\.json: it was written by an older devsnap/);
    expect(refusal(() => check('{'))).toMatch(/is not a valid devsnap seal/);
    expect(refusal(() => check(JSON.stringify({ ...good, extra: 'x' })))).toMatch(
      /is not a valid devsnap seal/,
    );
    expect(refusal(() => check(' '.repeat(70_000)))).toMatch(/is not a valid devsnap seal/);
    expect(refusal(() => check(JSON.stringify({ ...good, snapshotId: 'other' })))).toMatch(
      /belongs to snapshot other/,
    );
  });
});

describe('trusted keys', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'devsnap-trust-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads PEM and the base64 DER that aws kms get-public-key prints, as the same key', () => {
    const key = keyPair('p256');
    expect(parsePublicKey(key.pem).id).toBe(parsePublicKey(`  ${key.spki}\n`).id);
    expect(parsePublicKey(key.pem).algorithm).toBe('ecdsa-p256-sha256');
  });

  it('refuses what is not a P-256 or Ed25519 public key, saying what to pass', () => {
    expect(() => parsePublicKey('not a key; rm -rf /')).toThrow(UsageError);
    expect(() => parsePublicKey('bm90IGEga2V5')).toThrow(/is not a public key \(PEM, or base64 DER/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      format: 'pem',
      type: 'spki',
    });
    expect(() => parsePublicKey(rsa.toString())).toThrow(/is a rsa key; seals are signed with P-256/);
  });

  it('keeps added keys in a file only the user can read, and removes them by id prefix', async () => {
    const file = new TrustFile(join(directory, 'config'));
    const one = keyPair('ed25519');
    const two = keyPair('p256');
    await file.add(one.publicKey, 'laptop');
    await file.add(two.publicKey, 'pipeline');
    await file.add(two.publicKey, 'pipeline (renamed)');
    expect((await file.entries()).map((entry) => [entry.id, entry.name])).toEqual([
      [one.publicKey.id, 'laptop'],
      [two.publicKey.id, 'pipeline (renamed)'],
    ]);
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect(await file.remove(one.publicKey.id.slice(0, 6))).toMatchObject({ id: one.publicKey.id });
    expect(await file.remove(one.publicKey.id)).toBeNull();
    expect((await file.keys()).map((key) => key.id)).toEqual([two.publicKey.id]);
  });

  it('trusts the union of the config, $DEVSNAP_TRUSTED_KEYS and the trust file', async () => {
    const [fromConfig, fromEnv, fromEnvPem, fromFile] = [
      keyPair('p256'),
      keyPair('ed25519'),
      keyPair('p256'),
      keyPair('ed25519'),
    ];
    const configDirectory = join(directory, 'union');
    await new TrustFile(configDirectory).add(fromFile.publicKey, 'file');
    const trust = await resolveTrust({
      configKeys: [fromConfig.spki],
      env: { DEVSNAP_TRUSTED_KEYS: `${fromEnv.spki}\n${fromEnvPem.pem}` },
      configDirectory,
    });
    expect(trust.keys.map((key) => key.id).sort()).toEqual(
      [fromConfig, fromEnv, fromEnvPem, fromFile].map((key) => key.publicKey.id).sort(),
    );
    // Base64 keys are separated by commas or white space.
    const listed = await resolveTrust({
      env: { DEVSNAP_TRUSTED_KEYS: `${fromConfig.spki}, ${fromEnv.spki}` },
      configDirectory: join(directory, 'none'),
    });
    expect(listed.keys).toHaveLength(2);
  });

  it('names a broken trust file instead of trusting nothing', async () => {
    const configDirectory = join(directory, 'broken');
    const file = new TrustFile(configDirectory);
    await file.add(keyPair('ed25519').publicKey, 'x');
    await writeFile(file.path, (await readFile(file.path, 'utf8')).replace('"keys"', '"kees"'));
    await expect(resolveTrust({ env: {}, configDirectory })).rejects.toThrow(
      /is not a devsnap trusted-keys file/,
    );
  });
});
