import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config-loader.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { LATEST_KEY, type Manifest, manifestKey } from '../../core/manifest.js';
import type { S3SnapshotStore } from '../../core/store/s3-snapshot-store.js';
import type { TestDatabase } from '../support/databases.js';
import { createExportRole, type ExportRole } from '../support/export-role.js';
import { temporaryStore } from '../support/fingerprints.js';
import { type BundledHandlers, bundleHandlers } from '../support/lambda-bundles.js';
import { setEnvironment } from '../support/process-environment.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { createShopDatabase } from '../support/shop-fixture.js';
import { synthesisedDefinition } from '../support/state-machine-definition.js';

const configPath = join(fileURLToPath(new URL('../..', import.meta.url)), 'test/fixtures/pipeline.config.ts');
type Handler = (input: never) => Promise<unknown>;

describe('the state machine in pg mode (direct connection, one transaction in the plan step), over the pg-mode bundles', () => {
  let source: TestDatabase;
  let bundled: BundledHandlers;
  let s3: TestS3Server;
  let store: S3SnapshotStore;
  let restore: () => void;
  let exportRole: ExportRole;

  beforeAll(async () => {
    source = await createShopDatabase('sfn_pg');
    // The pipeline refuses a role that can do more than read: it signs in as the role the GRANT
    // script devsnap prints would create.
    exportRole = await createExportRole(source, 'devsnap_export', 'export-pw');
    s3 = await startS3Server();
    store = s3.store();
    const restoreS3 = s3.useEnvironment();
    const restoreHandlers = setEnvironment({
      DEVSNAP_BUCKET: s3.bucket,
      DEVSNAP_PREFIX: store.prefix,
      DEVSNAP_SOURCE: 'pg',
      DEVSNAP_DATABASE_URL: exportRole.url,
      DEVSNAP_CONFIG_PATH: configPath,
      // The fixture's config is warn-only (the test is about the pipeline): deployed as allowed.
      DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA: 'true',
    });
    restore = () => {
      restoreS3();
      restoreHandlers();
    };
    bundled = await bundleHandlers(configPath, 'pg');
  });
  afterAll(async () => {
    restore?.();
    if (bundled) await rm(bundled.directory, { recursive: true, force: true });
    await s3?.stop();
    await source?.drop();
    await exportRole?.drop();
  });

  it('publishes the same tables and row counts as the in-process export', async () => {
    // In pg mode the plan step writes every table's Parquet itself, so its bundle carries parquet-wasm.
    expect(Object.keys(bundled.bundles.plan.files).sort()).toEqual([
      'index.mjs',
      'libpg-query.wasm',
      'parquet_wasm_bg.wasm.gz',
    ]);
    expect(bundled.bundles.plan.totalBytes).toBeLessThanOrEqual(8_000_000);
    // The handlers read their environment at module scope, as on Lambda.
    const load = async (step: 'plan' | 'finalize') =>
      (await import(join(bundled.directory, step, 'index.mjs'))).handler as Handler;
    const plan = await load('plan');
    const finalize = await load('finalize');
    const output = (await new StateMachine(synthesisedDefinition()).run(
      {},
      {
        overrides: {
          taskResourceLocalHandlers: {
            PlanExport: (input) => plan(input as never) as never,
            ExportTables: () => {
              throw new Error('pg mode has no Map items');
            },
            ReleaseSnapshot: (input) => plan(input as never) as never,
            ReleaseSnapshotAfterFailure: (input) => plan(input as never) as never,
            FinalizeExport: (input) => finalize(input as never) as never,
            FinalizeFailedExport: (input) => finalize(input as never) as never,
          },
        },
      },
    ).result) as { result: { status: string; snapshotId: string } };
    expect(output.result.status).toBe('published');
    expect(JSON.parse((await store.readText(LATEST_KEY)) ?? '').snapshotId).toBe(output.result.snapshotId);

    const local = await temporaryStore();
    try {
      const { config } = await loadConfig(configPath);
      const inProcess = await exportSnapshot({ databaseUrl: source.url, store: local, config });
      const manifest = JSON.parse(
        (await store.readText(manifestKey(output.result.snapshotId))) ?? '',
      ) as Manifest;
      const counts = (tables: readonly { schema: string; name: string; rows: number }[]) =>
        tables.map(({ schema, name, rows }) => [`${schema}.${name}`, rows]);
      expect(counts(manifest.tables)).toEqual(inProcess.tables.map(({ table, rows }) => [table, rows]));
      expect(counts(manifest.tables)).toContainEqual(['public.orders', 5]);
    } finally {
      await local.remove();
    }
  });
});
