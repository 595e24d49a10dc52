import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../core/config/config-loader.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { LATEST_KEY, type LatestPointer } from '../../core/manifest.js';
import type { S3SnapshotStore } from '../../core/store/s3-snapshot-store.js';
import { runDevsnap } from '../support/cli-harness.js';
import { type DataApiServer, startDataApiServer } from '../support/data-api-server.js';
import {
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../support/databases.js';
import { tableFingerprints, temporaryStore } from '../support/fingerprints.js';
import { type KmsServer, startKmsServer } from '../support/kms-server.js';
import { type BundledHandlers, bundleHandlers, measureColdStartInit } from '../support/lambda-bundles.js';
import { setEnvironment } from '../support/process-environment.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { createShopDatabase } from '../support/shop-fixture.js';
import { synthesisedDefinition } from '../support/state-machine-definition.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const configPath = join(repoRoot, 'test/fixtures/pipeline-bundle.config.ts');

type Handler = (input: never) => Promise<unknown>;

describe('the synthesised state machine, run locally over the Lambda bundles cdk synth builds', () => {
  let source: TestDatabase;
  let api: DataApiServer;
  let s3: TestS3Server;
  let kms: KmsServer;
  let store: S3SnapshotStore;
  let restoreEnvironment: () => void;
  let handlers: { plan: Handler; export: Handler; finalize: Handler };
  let definition: StateMachineDefinition;
  let bundled: BundledHandlers;
  let handlerEnvironment: NodeJS.ProcessEnv;

  beforeAll(async () => {
    source = await createShopDatabase('sfn_export');
    api = await startDataApiServer({ postgresUrl: serverUrl('postgres') });
    s3 = await startS3Server();
    kms = await startKmsServer();
    store = s3.store();
    const restoreS3 = s3.useEnvironment();
    const restoreKms = kms.useEnvironment();
    // No DEVSNAP_CONFIG_PATH: the config is compiled into the bundles, as on Lambda.
    handlerEnvironment = {
      DEVSNAP_BUCKET: s3.bucket,
      DEVSNAP_PREFIX: store.prefix,
      DEVSNAP_CLUSTER_ARN: api.resourceArn,
      DEVSNAP_DATABASE_SECRET_ARN: api.secretArn,
      DEVSNAP_DATABASE: source.name,
      // The fixture's config is warn-only (the test is about the pipeline): deployed as allowed.
      DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA: 'true',
      DEVSNAP_DATA_API_ENDPOINT: api.endpoint,
      DEVSNAP_SECRET: 'state-machine-test-secret-Vq4Lm8Xr2Kt6Np0Wd3',
      // The test Data API signs in as the test server's superuser (see allowPrivilegedSourceRole).
      DEVSNAP_ALLOW_PRIVILEGED_SOURCE: 'true',
      // Small enough that the selected users (more than 100 of them) are exported in parts.
      DEVSNAP_PART_ROWS: '40',
      // Finalize signs each seal with the stack's KMS key (here: the KMS-protocol test server).
      DEVSNAP_SIGNING_KEY_ID: kms.keyArn,
    };
    const restoreHandlers = setEnvironment(handlerEnvironment);
    restoreEnvironment = () => {
      restoreS3();
      restoreKms();
      restoreHandlers();
    };
    bundled = await bundleHandlers(configPath);
    // The handlers read their environment at module scope, as on Lambda.
    const load = async (step: 'plan' | 'export' | 'finalize') =>
      (await import(join(bundled.directory, step, 'index.mjs'))).handler as Handler;
    handlers = { plan: await load('plan'), export: await load('export'), finalize: await load('finalize') };
    definition = synthesisedDefinition();
  });
  afterAll(async () => {
    restoreEnvironment?.();
    await api?.stop();
    await s3?.stop();
    await kms?.stop();
    await source?.drop();
    if (bundled) await rm(bundled.directory, { recursive: true, force: true });
  });

  it('cold-starts each bundle: a fresh Node process loads it with the function environment', async () => {
    const s3Environment = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };
    const initMs: Record<string, number> = {};
    // One module, and the binaries its step uses: PostgreSQL's parser for the read-only guard where
    // the database is read, parquet-wasm (gzipped) where Parquet is written. The run below writes
    // its Parquet through the gzipped binary.
    const files = {
      plan: ['index.mjs', 'libpg-query.wasm'],
      export: ['index.mjs', 'libpg-query.wasm', 'parquet_wasm_bg.wasm.gz'],
      finalize: ['index.mjs'],
    };
    for (const step of ['plan', 'export', 'finalize'] as const) {
      const bundle = bundled.bundles[step];
      expect(Object.keys(bundle.files).sort()).toEqual(files[step]);
      // Within the budget this project sets for each Lambda asset: 8 MB unzipped.
      expect(bundle.totalBytes).toBeLessThanOrEqual(8_000_000);
      initMs[step] = await measureColdStartInit(join(bundled.directory, step), {
        ...handlerEnvironment,
        ...s3Environment,
      });
      expect(initMs[step]).toBeGreaterThan(0);
    }
    expect(bundled.bundles.plan.fakerLocales).toEqual(['en', 'de']);
    expect(bundled.bundles.finalize.fakerLocales).toEqual([]);
    // What finalize never does is left out: the SQL parser is a stub that says so if it is ever called.
    const finalizeCode = await readFile(join(bundled.directory, 'finalize', 'index.mjs'), 'utf8');
    expect(finalizeCode).toContain("The finalize step's bundle carries no libpg-query");
    expect(bundled.bundles.finalize.byPackage.map(([name]) => name)).not.toContain('libpg-query');
    // Measured, not asserted against a budget (the machine may be busy); bench/ reports it too.
    console.info(`Lambda cold-start init (ms): ${JSON.stringify(initMs)}`);
  });

  const run = (onPlanned: () => void | Promise<void> = () => {}) =>
    new StateMachine(definition).run(
      {},
      {
        overrides: {
          taskResourceLocalHandlers: {
            PlanExport: async (input) => {
              const planned = await handlers.plan(input as never);
              await onPlanned();
              return planned as never;
            },
            ExportTables: (input) => handlers.export(input as never) as never,
            ReleaseSnapshot: (input) => handlers.plan(input as never) as never,
            ReleaseSnapshotAfterFailure: (input) => handlers.plan(input as never) as never,
            FinalizeExport: (input) => handlers.finalize(input as never) as never,
            FinalizeFailedExport: (input) => handlers.finalize(input as never) as never,
          },
        },
      },
    ).result;

  async function latest(): Promise<LatestPointer> {
    return JSON.parse((await store.readText(LATEST_KEY)) ?? 'null') as LatestPointer;
  }

  it('publishes the rows the in-process export of the same config publishes, and devsnap import restores them', async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    let output: {
      result: { status: string; snapshotId: string };
      plan: {
        run: Record<string, string>;
        levels: { level: number; items: { table: string; part: number }[] }[];
      };
    };
    let secrets = '';
    try {
      // The run's keys are in its .work/ folder while it runs (finalize deletes it).
      output = (await run(async () => {
        const key = (await store.list('snapshots/')).find((name) => name.endsWith('/.work/run.json'));
        secrets = key ? ((await store.readText(key)) ?? '') : '';
      })) as typeof output;
    } finally {
      write.mockRestore();
    }
    const events = lines
      .flatMap((line) => line.split('\n'))
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    // One event per exported table, with counts and timings; no row value (the shop's e-mails) and
    // no secret ARN anywhere in the logs.
    const exported = events.filter((event) => event.event === 'table-exported');
    expect([...new Set(exported.map((event) => event.table))].sort()).toEqual([
      'Billing.Invoice Lines',
      'public.events',
      'public.order_items',
      'public.orders',
      'public.shipments',
      'public.users',
    ]);
    for (const event of exported) {
      expect(event).toMatchObject({ step: 'export', rows: expect.any(Number), bytes: expect.any(Number) });
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(lines.join('')).not.toMatch(/@example\.com|First\d|secret:/);
    // Payloads (kept in the execution history) carry the run's id, never its keys.
    expect(output.plan.run).toEqual({ snapshotId: output.result.snapshotId });
    const { digestKey, transactionId, databaseSnapshot } = JSON.parse(secrets) as Record<string, string>;
    for (const key of [digestKey, transactionId, databaseSnapshot]) {
      expect(key).toMatch(/\S{8}/);
      expect(JSON.stringify(output)).not.toContain(key);
      expect(lines.join('')).not.toContain(key);
    }
    expect(output.result.status).toBe('published');
    // users is split into ranges of its key, one worker each; its parts' rows add up to the table's.
    const userParts = exported.filter((event) => event.table === 'public.users');
    // Parts run in parallel and finish in any order.
    expect(userParts.map((event) => event.part).sort()).toEqual(userParts.map((_, part) => part));
    expect(userParts.length).toBeGreaterThan(1);
    const manifest = JSON.parse(
      (await store.readText(`snapshots/${output.result.snapshotId}/manifest.json`)) ?? '',
    ) as { tables: { name: string; rows: number; files: { key: string; rows: number }[] }[] };
    const users = manifest.tables.find((table) => table.name === 'users');
    expect(users?.files.map((file) => file.key.split('/').at(-1))).toEqual(
      userParts.map((_, part) => `part-0000${part}.parquet`),
    );
    expect(users?.files.reduce((sum, file) => sum + file.rows, 0)).toBe(users?.rows);
    // Parents a level above their children; users references itself and stays in one level.
    expect(
      output.plan.levels.map(({ items }) => [...new Set(items.map((item) => item.table))].sort()),
    ).toEqual([
      ['public.events', 'public.users'],
      ['public.orders'],
      ['Billing.Invoice Lines', 'public.order_items'],
      ['public.shipments'],
    ]);
    expect((await latest()).snapshotId).toBe(output.result.snapshotId);
    expect(await store.list(`snapshots/${output.result.snapshotId}/.work/`)).toEqual([]);
    expect(api.openTransactions()).toBe(0);

    const { config } = await loadConfig(configPath);
    const local = await temporaryStore();
    const viaPipeline = uniqueDatabaseName('sfn_pipeline');
    const inProcess = uniqueDatabaseName('sfn_in_process');
    try {
      await exportSnapshot({ databaseUrl: source.url, store: local, config });
      await importSnapshot({ store: local, databaseUrl: serverUrl(inProcess), resetMode: 'drop-database' });
      const location = `s3://${s3.bucket}/${store.prefix.replace(/\/$/, '')}`;
      const importArgs = [
        'import',
        '--store',
        location,
        '--database-url',
        serverUrl(viaPipeline),
        '--yes',
        '--json',
      ];
      const env = { DEVSNAP_S3_ENDPOINT: s3.endpoint, DEVSNAP_CONFIG_DIR: local.location };
      // Signed by the pipeline's key: a developer who trusts a different key gets one clear refusal.
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
      const refused = await runDevsnap(importArgs, {
        env: {
          ...env,
          DEVSNAP_TRUSTED_KEYS: other.export({ format: 'der', type: 'spki' }).toString('base64'),
        },
      });
      expect(refused.code).toBe(5);
      expect(JSON.parse(refused.stdout).error.message).toMatch(
        new RegExp(
          `^Snapshot ${output.result.snapshotId} is signed by key [0-9a-f]{16}, which you do not trust`,
        ),
      );
      const imported = await runDevsnap(importArgs, { env: { ...env, DEVSNAP_TRUSTED_KEYS: kms.publicKey } });
      // The fixture's config is warn-only: the import says that the snapshot may hold personal data.
      expect(imported.stderr).toMatch(
        /^warning: Snapshot \S+ was exported with relaxed anonymisation \(mode: warn: [^\n]+\n$/,
      );
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({
        snapshotId: output.result.snapshotId,
        seal: { signature: 'verified', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) },
      });
      expect(kms.calls).toContain(`Sign ${kms.keyArn}`);
      const pipelineRows = await withDatabase(viaPipeline, tableFingerprints);
      expect(pipelineRows).toEqual(await withDatabase(inProcess, tableFingerprints));
      // The subset really is one: five orders, and no item of any other order.
      expect(pipelineRows['public.orders']).toMatchObject({ rows: 5 });
    } finally {
      await dropDatabase(viaPipeline);
      await dropDatabase(inProcess);
      await local.remove();
    }
  });

  it('a worker failing half-way leaves latest on the previous snapshot and records the table and the error', async () => {
    const before = await latest();
    expect(before.snapshotId).toMatch(/^\d{8}T/);
    const marker = `disk full ${randomBytes(3).toString('hex')}`;
    // Armed once planning is done, so it hits a worker while it reads order_items' rows.
    const arm = () =>
      api.inject({
        type: 'DatabaseErrorException',
        status: 400,
        message: marker,
        // Only the worker's data read of order_items selects quantity; the selection reads keys.
        when: (call) => /order_items/.test(call.sql ?? '') && /quantity/.test(call.sql ?? ''),
      });
    await expect(run(arm)).rejects.toThrow(/See failure.json/);

    expect(await latest()).toEqual(before);
    const keys = await store.list('snapshots/');
    const failureKeys = keys.filter((key) => key.endsWith('/failure.json'));
    expect(failureKeys).toHaveLength(1);
    const record = JSON.parse((await store.readText(failureKeys[0] as string)) ?? '') as {
      failures: { table: string; error: string }[];
    };
    expect(record.failures).toEqual([
      { table: 'public.order_items', error: expect.stringContaining(marker) },
    ]);
    const failedId = (failureKeys[0] as string).split('/')[1] as string;
    // No manifest: nothing can import the failed run. (A sibling worker that was mid-table when the
    // Map failed may still finish its file, as a running Lambda would; retention removes the folder.)
    expect(keys.filter((key) => key.includes(failedId) && key.endsWith('manifest.json'))).toEqual([]);
    // Every transaction ends: the workers' own, and the holder of the database snapshot.
    const deadline = Date.now() + 10_000;
    while (api.openTransactions() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(api.openTransactions()).toBe(0);
  });

  it('a plan step that fails records failure.json for its run and leaves latest alone', async () => {
    const before = await latest();
    const marker = `catalog gone ${randomBytes(3).toString('hex')}`;
    // Introspection is the plan's first read of the catalog after the snapshot is held.
    api.inject({
      type: 'DatabaseErrorException',
      status: 400,
      message: marker,
      when: (call) => /pg_catalog\.pg_class/.test(call.sql ?? ''),
    });
    await expect(run()).rejects.toThrow(marker);
    expect(await latest()).toEqual(before);
    const failures = (await store.list('snapshots/')).filter((key) => key.endsWith('/failure.json'));
    const records = await Promise.all(
      failures.map(async (key) => JSON.parse((await store.readText(key)) ?? '') as { failures: unknown[] }),
    );
    expect(records.map((record) => record.failures)).toContainEqual([
      { table: '(plan)', error: expect.stringContaining(marker) },
    ]);
    const deadline = Date.now() + 10_000;
    while (api.openTransactions() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(api.openTransactions()).toBe(0);
  });
});
