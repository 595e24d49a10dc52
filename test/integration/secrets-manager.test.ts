import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSecret } from '../../core/anonymise/anonymise-secret.js';
import { DevsnapError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { decodeParquetToCopyText } from '../../core/parquet/parquet-decoder.js';
import { handlerClients } from '../../functions/handler-clients.js';
import { fake } from '../../strategies/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { setEnvironment } from '../support/process-environment.js';
import { type SecretsManagerServer, startSecretsManagerServer } from '../support/secrets-manager-server.js';
import { readManifest, snapshotRows } from '../support/snapshot-values.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:devsnap-anonymise-Ab12Cd';
const JSON_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:devsnap-json-Ef34Gh';
const URL_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:devsnap-database-url-Ij56Kl';
const SECRET = 'sm-whole-secret-4f1d9a7c2b6e8d03';
const FIELD_SECRET = 'sm-field-secret-91c3e5a7b0d2f468';
const configPath = join(fileURLToPath(new URL('../..', import.meta.url)), 'test/fixtures/pipeline.config.ts');

/**
 * Secrets Manager through the real AWS SDK client (endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * signing, JSON 1.1 serialisation, error parsing) against a local server speaking its protocol.
 */
describe('Secrets Manager through the AWS SDK', () => {
  let server: SecretsManagerServer;
  let restore: () => void;
  let source: TestDatabase;
  let store: TemporaryStore;

  beforeAll(async () => {
    source = await createTestDatabase('secrets_manager');
    await source.client.query(`
      CREATE TABLE public.people (id int PRIMARY KEY, email text NOT NULL UNIQUE);
      INSERT INTO public.people SELECT i, 'person' || i || '@real-mail.test' FROM generate_series(1, 20) i;
    `);
    store = await temporaryStore();
    server = await startSecretsManagerServer({
      [ARN]: SECRET,
      [JSON_ARN]: JSON.stringify({ devsnap: FIELD_SECRET, other: 'unused' }),
      [URL_ARN]: source.url,
    });
    restore = server.useEnvironment();
  });
  afterAll(async () => {
    restore?.();
    await server?.stop();
    await store?.remove();
    await source?.drop();
  });

  it('reads one JSON field of a secret with no client injected', async () => {
    const calls = server.calls.length;
    expect(await resolveSecret({ secretsManager: JSON_ARN, field: 'devsnap' }, { env: {} })).toEqual({
      secret: FIELD_SECRET,
      source: 'secrets-manager',
      from: `secrets-manager ${JSON_ARN}`,
    });
    expect(server.calls.slice(calls)).toEqual([JSON_ARN]);
  });

  it('explains a missing secret with its ARN and AWS’s reason, and no secret value', async () => {
    const missing = `${ARN}-gone`;
    const error = await resolveSecret({ secretsManager: missing }, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevsnapError);
    const message = (error as DevsnapError).message;
    expect(message).toBe(
      `Could not read the anonymisation secret ${missing} from Secrets Manager: Secrets Manager can't find the specified secret.`,
    );
    // The SDK puts the exception's type in the cause's name, not in its message.
    expect(((error as DevsnapError).cause as Error).name).toBe('ResourceNotFoundException');
    for (const value of [SECRET, FIELD_SECRET, source.url]) expect(message).not.toContain(value);
    expect(server.calls.at(-1)).toBe(missing);
  });

  it('exports with the whole secret: fakes keyed by it, recorded as secrets-manager, the value nowhere', async () => {
    const config = {
      anonymise: {
        secret: { secretsManager: ARN },
        rules: { 'public.people.email': fake('internet.email') },
      },
    };
    const { snapshotId } = await exportSnapshot({ databaseUrl: source.url, store, config, env: {} });
    expect(server.calls).toContain(ARN);

    const manifest = await readManifest(store, snapshotId);
    expect(manifest.anonymisation).toMatchObject({
      mode: 'strict',
      secret: 'secrets-manager',
      unresolved: [],
    });
    const found: string[] = [];
    for (const key of await store.list('')) {
      if ((await readFile(store.localPath(key))).toString('latin1').includes(SECRET)) found.push(key);
      if (!key.endsWith('.parquet')) continue;
      const table = manifest.tables.find((t) => t.files.some((file) => file.key === key));
      for await (const chunk of decodeParquetToCopyText(store.localPath(key), table?.columns ?? [])) {
        if (chunk.toString('utf8').includes(SECRET)) found.push(`${key} (decoded)`);
      }
    }
    expect(found).toEqual([]);

    const rows = await snapshotRows(store, snapshotId, 'public.people');
    expect(rows).toHaveLength(20);
    expect(rows.some((row) => String(row.email).includes('@real-mail.test'))).toBe(false);
    // The same secret from the environment gives the same fakes: the export used the secret it read.
    const fromEnv = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config: { anonymise: { ...config.anonymise, secret: { env: 'SAME_SECRET' } } },
      env: { SAME_SECRET: SECRET },
    });
    expect(await snapshotRows(store, fromEnv.snapshotId, 'public.people')).toEqual(rows);
  });

  it('lets a pg-mode handler read its database URL from the secret DEVSNAP_DATABASE_URL_SECRET_ARN names', async () => {
    const restore = setEnvironment({
      DEVSNAP_BUCKET: 'devsnap-test',
      DEVSNAP_SOURCE: 'pg',
      DEVSNAP_DATABASE_URL_SECRET_ARN: URL_ARN,
      DEVSNAP_DATABASE_URL: undefined,
      DEVSNAP_CONFIG_PATH: configPath,
    });
    try {
      const clients = handlerClients();
      const calls = server.calls.length;
      const opened = await clients.openSource();
      try {
        expect(await opened.query('SELECT current_database() AS name')).toEqual([{ name: source.name }]);
      } finally {
        await opened.close();
        clients.dataApi.destroy();
      }
      expect(server.calls.slice(calls)).toEqual([URL_ARN]);
    } finally {
      restore();
    }
  });
});
