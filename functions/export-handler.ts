import { exportTables } from '../core/export/export-tables.js';
import { handlerClients } from './handler-clients.js';
import { JsonLogger } from './json-logger.js';
import type { ExportItem } from './plan-handler.js';

const clients = handlerClients();

/** Well inside the Data API's 3-minute idle limit for the holder of the run's database snapshot. */
const HOLDER_PING_MS = 60_000;

export interface ExportItemResult {
  readonly tables: readonly { readonly table: string; readonly resultKey: string }[];
}

/**
 * Exports one Map item's tables inside the run's database snapshot. While it runs it keeps the
 * snapshot's holder alive, so workers of later levels can still join. Results go to S3; the return
 * value holds keys only.
 */
export async function handler(item: ExportItem): Promise<ExportItemResult> {
  const log = new JsonLogger({ step: 'export', snapshotId: item.snapshotId });
  const config = await clients.config();
  await clients.holder.ping(item.transactionId);
  const keepAlive = setInterval(() => void clients.holder.ping(item.transactionId), HOLDER_PING_MS);
  keepAlive.unref();
  try {
    const source = await clients.openSource(item.databaseSnapshot);
    try {
      const results = await exportTables({
        source,
        store: clients.store,
        snapshotId: item.snapshotId,
        tables: item.tables,
        config,
        reporter: log.reporter(),
      });
      return { tables: results.map(({ table, resultKey }) => ({ table, resultKey })) };
    } finally {
      await source.close();
    }
  } catch (error) {
    log.error('export-failed', error, { tables: item.tables.join(',') });
    throw error;
  } finally {
    clearInterval(keepAlive);
  }
}
