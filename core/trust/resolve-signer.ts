import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSnapshotSigner } from './kms-snapshot-signer.js';
import { PrivateKeySigner } from './private-key-signer.js';
import type { SnapshotSigner } from './snapshot-seal.js';

/**
 * The signer a key names: an AWS KMS key (`arn:aws:kms:…`, `alias/…` or a key id) or a PEM private
 * key file. The KMS client takes its region, credentials and endpoint from the SDK's default
 * chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_KMS, …).
 */
export async function resolveSigner(spec: string): Promise<SnapshotSigner> {
  if (isKmsKey(spec)) return new KmsSnapshotSigner(spec, new KMSClient({}));
  return PrivateKeySigner.fromFile(spec);
}

const KMS_KEY_ID =
  /^(arn:aws[a-z-]*:kms:|alias\/|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|mrk-)/;

function isKmsKey(spec: string): boolean {
  return KMS_KEY_ID.test(spec);
}
