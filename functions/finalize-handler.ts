import { finalizeExport } from '../core/export/finalize-export.js';
import { KmsSnapshotSigner } from '../core/trust/kms-snapshot-signer.js';
import { handlerClients } from './handler-clients.js';
import { JsonLogger } from './json-logger.js';

const clients = handlerClients();
// The private key never leaves KMS; the function may only ask it to sign (kms:Sign, kms:GetPublicKey).
const signer = clients.env.signingKeyId ? new KmsSnapshotSigner(clients.env.signingKeyId) : undefined;

export interface FinalizeEvent {
  readonly snapshotId: string;
  /** The error a state caught (Step Functions' `{ Error, Cause }`), when the run failed. */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

export interface FinalizeHandlerResult {
  readonly status: 'published' | 'failed';
  readonly snapshotId: string;
  /** manifest.json when published, failure.json when not. */
  readonly key: string;
}

/**
 * Ends the run: publishes (manifest, `latest`, retention) or, when a worker failed, writes
 * failure.json and leaves `latest` where it was. It has no database access: the Data API transaction
 * that held the run's snapshot ends by itself 3 minutes after the last worker's ping.
 */
export async function handler(event: FinalizeEvent): Promise<FinalizeHandlerResult> {
  const log = new JsonLogger({ step: 'finalize', snapshotId: event.snapshotId });
  const { keepNewest } = clients.env;
  const result = await finalizeExport({
    store: clients.store,
    snapshotId: event.snapshotId,
    ...(event.error ? { failure: { error: failureText(event.error) } } : {}),
    ...(keepNewest ? { retention: { keepNewest } } : {}),
    ...(signer ? { signer } : {}),
    reporter: log.reporter(),
  });
  if (result.status === 'published') {
    log.info('published', {
      manifestKey: result.manifestKey,
      latestMoved: result.latestMoved,
      rows: result.totalRows,
      bytes: result.totalBytes,
    });
    return { status: 'published', snapshotId: event.snapshotId, key: result.manifestKey };
  }
  for (const failure of result.failures) {
    log.info('table-failed', { table: failure.table, error: failure.error });
  }
  return { status: 'failed', snapshotId: event.snapshotId, key: result.failureKey };
}

/** A Lambda error's Cause is JSON with errorMessage; keep the message, not the stack. */
function failureText(error: { Error?: string; Cause?: string }): string {
  try {
    const cause = JSON.parse(error.Cause ?? '') as { errorMessage?: string };
    if (cause.errorMessage) return `${error.Error ?? 'Error'}: ${cause.errorMessage}`;
  } catch {
    // Not JSON: a States.* error's Cause is plain text.
  }
  return `${error.Error ?? 'Error'}: ${error.Cause ?? 'unknown'}`;
}
