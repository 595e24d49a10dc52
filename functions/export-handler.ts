import { exportTables } from '../core/export/export-tables.js';
import { handlerClients } from './handler-clients.js';
import { JsonLogger } from './json-logger.js';
import type { ExportItem } from './plan-handler.js';

const clients = handlerClients();

/** Well inside the Data API's 3-minute idle limit for the holder of the run's database snapshot. */
const HOLDER_PING_MS = 60_000;

export interface ExportItemResult {
  readonly table: string;
  readonly part: number;
  readonly resultKey: string;
}

/**
 * Exports one Map item's table part inside the run's database snapshot. While it runs it keeps the
 * snapshot's holder alive, so workers of later levels can still join. Results go to S3; the return
 * value holds keys only.
 */
export async function handler(item: ExportItem): Promise<ExportItemResult> {
  const { run, part } = item;
  const log = new JsonLogger({ step: 'export', snapshotId: run.snapshotId });
  const config = await clients.config();
  await clients.holder.ping(run.transactionId);
  const keepAlive = setInterval(() => void clients.holder.ping(run.transactionId), HOLDER_PING_MS);
  keepAlive.unref();
  try {
    const source = await clients.openSource(run.databaseSnapshot);
    try {
      const [result] = await exportTables({
        source,
        store: clients.store,
        snapshotId: run.snapshotId,
        parts: [part],
        digestKey: run.digestKey,
        config,
        reporter: log.reporter({ part: part.part }),
      });
      const { table, resultKey } = result as NonNullable<typeof result>;
      return { table, part: part.part, resultKey };
    } finally {
      await source.close();
    }
  } catch (error) {
    log.error('export-failed', error, { table: part.table, part: part.part });
    throw error;
  } finally {
    clearInterval(keepAlive);
  }
}
