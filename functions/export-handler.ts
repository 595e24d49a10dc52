import { StoreError } from '../core/errors.js';
import { exportTables } from '../core/export/export-tables.js';
import { handlerClients } from './handler-clients.js';
import { JsonLogger } from './json-logger.js';
import { type ExportItem, type RunSecrets, runKey } from './plan-handler.js';

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
  const secrets = await readRunSecrets(run.snapshotId);
  await clients.holder.ping(secrets.transactionId);
  const keepAlive = setInterval(() => void clients.holder.ping(secrets.transactionId), HOLDER_PING_MS);
  keepAlive.unref();
  try {
    const source = await clients.openSource(secrets.databaseSnapshot);
    try {
      const [result] = await exportTables({
        source,
        store: clients.store,
        snapshotId: run.snapshotId,
        parts: [part],
        digestKey: secrets.digestKey,
        config,
        privilegedSource: clients.env.privilegedSource,
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

/** The run's keys, which the plan step stored beside the plan rather than in the Map items. */
async function readRunSecrets(snapshotId: string): Promise<RunSecrets> {
  const text = await clients.store.readText(runKey(snapshotId));
  if (text === null) {
    throw new StoreError(`The run ${snapshotId} has no ${runKey(snapshotId)}: its plan step did not finish.`);
  }
  return JSON.parse(text) as RunSecrets;
}
