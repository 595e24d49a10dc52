import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { type ExportResult, exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import {
  connectTestDatabase,
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
} from './databases.js';
import { type TemporaryStore, temporaryStore } from './fingerprints.js';
import { testSigner, testTrust } from './signing-key.js';

/** A source database exported to a temporary store and imported into a fresh database. */
export interface RoundTrip {
  readonly store: TemporaryStore;
  readonly exported: ExportResult;
  /** The imported copy, with a connected client. */
  readonly target: TestDatabase;
  /** Closes the target's client, drops the target and removes the store. */
  remove(): Promise<void>;
}

export interface ExportAndImportOptions {
  readonly config: DevsnapConfig;
  /** Prefix of the target database's unique name. */
  readonly targetPrefix: string;
}

/**
 * Exports `source` to a new temporary store, signed with the test key, imports that snapshot into a
 * new database of the test server (reset mode drop-database, confirmed, the key trusted) and
 * connects to it. A failure removes what the
 * round trip had created before it is thrown.
 */
export async function exportAndImport(
  source: { readonly url: string },
  options: ExportAndImportOptions,
): Promise<RoundTrip> {
  const store = await temporaryStore();
  const targetName = uniqueDatabaseName(options.targetPrefix);
  try {
    const exported = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config: options.config,
      signer: testSigner,
    });
    await importSnapshot({
      databaseUrl: serverUrl(targetName),
      store,
      trust: testTrust,
      confirm: async () => true,
    });
    const target = await connectTestDatabase(targetName);
    return {
      store,
      exported,
      target,
      async remove() {
        await target.drop();
        await store.remove();
      },
    };
  } catch (error) {
    await dropDatabase(targetName);
    await store.remove();
    throw error;
  }
}
