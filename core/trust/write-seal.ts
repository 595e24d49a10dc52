import { type SnapshotSeal, type SnapshotSigner, sealMessage } from './snapshot-seal.js';

/**
 * The seal.json text of a manifest: its sha256 and, with a signer, the signature over the snapshot
 * id and that digest. Made before anything is published, so a signing failure publishes nothing.
 */
export async function sealText(
  snapshotId: string,
  manifestSha256: string,
  signer: SnapshotSigner | undefined,
): Promise<string> {
  const seal: SnapshotSeal = {
    format: 'devsnap-seal',
    version: 1,
    snapshotId,
    manifestSha256,
    signature: signer ? await signer.sign(sealMessage(snapshotId, manifestSha256)) : null,
  };
  return `${JSON.stringify(seal, null, 2)}\n`;
}
