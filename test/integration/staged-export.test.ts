import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginExport } from '../../core/export/begin-export.js';
import { exportTables } from '../../core/export/export-tables.js';
import { failureKey, finalizeExport } from '../../core/export/finalize-export.js';
import { LATEST_KEY, manifestKey } from '../../core/manifest.js';
import { PgSource } from '../../core/source/pg-source.js';
import type { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { temporaryStore } from '../support/fingerprints.js';
import { loadSmallShop } from '../support/shop-fixture.js';

const config = { anonymise: { mode: 'warn' as const } };

describe('the export in steps (plan, tables, finalize), as the state machine runs it', () => {
  let db: TestDatabase;
  let store: LocalDirectoryStore & { remove(): Promise<void> };

  beforeAll(async () => {
    db = await createTestDatabase('staged_export');
    await loadSmallShop(db.client);
    store = await temporaryStore();
  });
  afterAll(async () => {
    await store?.remove();
    await db?.drop();
  });

  async function step<T>(run: (source: PgSource) => Promise<T>): Promise<T> {
    const source = await PgSource.connect(db.url);
    try {
      return await run(source);
    } finally {
      await source.close();
    }
  }

  it('publishes nothing when a table never reported, and says which', async () => {
    const plan = await step((source) => beginExport({ source, store, config }));
    const [lastTable] = plan.tables.slice(-1);
    await step((source) =>
      exportTables({ source, store, config, snapshotId: plan.snapshotId, tables: plan.tables.slice(0, -1) }),
    );
    const result = await finalizeExport({ store, snapshotId: plan.snapshotId });
    expect(result).toMatchObject({
      status: 'failed',
      failures: [
        { table: '(finalize)', error: expect.stringContaining(`No export result for ${lastTable}`) },
      ],
    });
    expect(await store.readText(LATEST_KEY)).toBeNull();
    expect(await store.list(`snapshots/${plan.snapshotId}/`)).toEqual([failureKey(plan.snapshotId)]);
  });

  it('refuses a worker whose config differs from the plan, naming its tables', async () => {
    const plan = await step((source) => beginExport({ source, store, config }));
    const changed = { ...config, tables: { 'public.orders': [] } };
    await expect(
      step((source) =>
        exportTables({
          source,
          store,
          config: changed,
          snapshotId: plan.snapshotId,
          tables: ['public.users'],
        }),
      ),
    ).rejects.toThrow(/The config changed during export/);
    const result = await finalizeExport({ store, snapshotId: plan.snapshotId });
    expect(result).toMatchObject({
      status: 'failed',
      failures: [{ table: 'public.users', error: expect.stringContaining('The config changed') }],
    });
  });

  it('publishes when every table reported, in the plan order, and applies retention', async () => {
    const plan = await step((source) => beginExport({ source, store, config }));
    // Levels in reverse and tables one by one: the order workers finish in does not matter.
    for (const level of [...plan.levels].reverse()) {
      await step((source) =>
        exportTables({ source, store, config, snapshotId: plan.snapshotId, tables: level }),
      );
    }
    const result = await finalizeExport({ store, snapshotId: plan.snapshotId, retention: { keepNewest: 1 } });
    expect(result).toMatchObject({ status: 'published', latestMoved: true, totalRows: 2951 });
    const manifest = JSON.parse((await store.readText(manifestKey(plan.snapshotId))) ?? '');
    expect(manifest.tables.map((t: { schema: string; name: string }) => `${t.schema}.${t.name}`)).toEqual(
      plan.tables,
    );
    expect(JSON.parse((await store.readText(LATEST_KEY)) ?? '').snapshotId).toBe(plan.snapshotId);
    expect(await store.list(`snapshots/${plan.snapshotId}/.work/`)).toEqual([]);
  });
});
