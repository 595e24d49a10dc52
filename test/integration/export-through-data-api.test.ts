import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { type Manifest, manifestKey } from '../../core/manifest.js';
import { decodeParquetToCopyText } from '../../core/parquet/parquet-decoder.js';
import { RdsDataSource } from '../../core/source/rds-data-source.js';
import { dataApiOptions, loadTypeRichTables } from '../support/data-api-fixture.js';
import { type DataApiServer, startDataApiServer } from '../support/data-api-server.js';
import {
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../support/databases.js';
import { type TemporaryStore, tableFingerprints, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

// Strict anonymisation would stop on the fixture's e-mail columns; this test is about the source.
const config = { anonymise: { mode: 'warn' as const } };

describe('the same export through PgSource and through the RDS Data API', () => {
  let source: TestDatabase;
  let api: DataApiServer;
  const stores: Record<'pg' | 'dataApi', TemporaryStore> = {} as Record<'pg' | 'dataApi', TemporaryStore>;
  const manifests: Record<'pg' | 'dataApi', Manifest> = {} as Record<'pg' | 'dataApi', Manifest>;

  beforeAll(async () => {
    source = await createShopDatabase('dataapi_export');
    await loadTypeRichTables(source.client);
    api = await startDataApiServer({ postgresUrl: serverUrl('postgres') });
    stores.pg = await temporaryStore();
    stores.dataApi = await temporaryStore();
    const viaPg = await exportSnapshot({ databaseUrl: source.url, store: stores.pg, config });
    const viaDataApi = await exportSnapshot({
      // Pages aimed past the 1 MiB limit, so the export meets it and must adapt.
      source: () =>
        RdsDataSource.connect(
          dataApiOptions(api, source.name, {
            paging: { targetPageBytes: 4 * 1024 * 1024, maxPageRows: 5000 },
          }),
        ),
      store: stores.dataApi,
      config,
    });
    for (const [name, result] of [
      ['pg', viaPg],
      ['dataApi', viaDataApi],
    ] as const) {
      manifests[name] = JSON.parse(
        (await stores[name].readText(manifestKey(result.snapshotId))) ?? '',
      ) as Manifest;
    }
  });
  afterAll(async () => {
    await api?.stop();
    await source?.drop();
    await Promise.all(Object.values(stores).map((store) => store.remove()));
  });

  it('describes the same schema, tables, columns, row counts and sequences', () => {
    const describe = (manifest: Manifest) => ({
      serverVersion: manifest.source.serverVersion,
      preData: manifest.schema.preData.sha256,
      postData: manifest.schema.postData.sha256,
      tables: manifest.tables.map(({ schema, name, columns, rows, partitions }) => ({
        schema,
        name,
        columns,
        rows,
        partitions,
      })),
      sequences: manifest.sequences,
      totals: manifest.totals.rows,
    });
    expect(describe(manifests.dataApi)).toEqual(describe(manifests.pg));
    expect(manifests.pg.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(
      expect.arrayContaining(['public.rich', 'public.keyless', 'Billing.Invoice Lines', 'public.events']),
    );
  });

  it('writes Parquet files that decode to the same rows, value for value', async () => {
    for (const table of manifests.pg.tables) {
      const other = manifests.dataApi.tables.find((t) => t.schema === table.schema && t.name === table.name)!;
      const decoded = async (store: TemporaryStore, key: string) => {
        const lines: string[] = [];
        for await (const chunk of decodeParquetToCopyText(store.localPath(key), table.columns)) {
          lines.push(...chunk.toString('utf8').split('\n').slice(0, -1));
        }
        return lines.sort();
      };
      const [viaPg, viaDataApi] = await Promise.all([
        decoded(stores.pg, table.files[0]!.key),
        decoded(stores.dataApi, other.files[0]!.key),
      ]);
      expect(viaDataApi.length, `${table.schema}.${table.name}`).toBe(table.rows);
      expect(viaDataApi, `${table.schema}.${table.name}`).toEqual(viaPg);
    }
  });

  it('met the 1 MiB limit on the way and closed the transaction it opened', () => {
    const refused = api.calls.filter((call) => call.error);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused.map((call) => call.message))).toEqual(
      new Set(['Database returned more than the allowed response size limit']),
    );
    expect(api.calls.filter((call) => call.operation === 'BeginTransaction')).toHaveLength(1);
    expect(api.calls.filter((call) => call.operation === 'RollbackTransaction')).toHaveLength(1);
    expect(api.openTransactions()).toBe(0);
  });

  it('imports to tables identical to the source, whichever source exported them', async () => {
    const expected = await tableFingerprints(source.client);
    for (const store of [stores.pg, stores.dataApi]) {
      const target = uniqueDatabaseName('dataapi_import');
      try {
        await importSnapshot({ databaseUrl: serverUrl(target), store, confirm: async () => true });
        expect(await withDatabase(target, tableFingerprints)).toEqual(expected);
      } finally {
        await dropDatabase(target);
      }
    }
  });

  it('closes the Data API transaction when the export fails', async () => {
    const store = await temporaryStore();
    try {
      await expect(
        exportSnapshot({
          source: () => RdsDataSource.connect(dataApiOptions(api, source.name)),
          store,
          config: { ...config, tables: { 'public.no_such_table': [] } },
        }),
      ).rejects.toThrow(UsageError);
      expect(api.openTransactions()).toBe(0);
      expect(await store.list('')).toEqual([]);
    } finally {
      await store.remove();
    }
  });
});
