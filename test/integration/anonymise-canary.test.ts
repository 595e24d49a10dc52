import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStarterConfig } from '../../core/anonymise/starter-config.js';
import { loadConfig } from '../../core/config/config-loader.js';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { decodeParquetToCopyText } from '../../core/parquet/parquet-decoder.js';
import {
  createTestDatabase,
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { CANARY_STRINGS, loadPersonalData, PERSONAL_DATA_ROWS } from '../support/personal-data-fixture.js';
import { readManifest, snapshotRows } from '../support/snapshot-values.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET = 'canary-test-secret-7f3a9c2e51d84b06';

/** Every canary found in a text, with where it was found. */
function findCanaries(text: string, where: string): string[] {
  const lower = text.toLowerCase();
  return CANARY_STRINGS.filter((canary) => lower.includes(canary.toLowerCase())).map(
    (canary) => `${canary} in ${where}`,
  );
}

describe('canaries: personal values never reach a snapshot exported with the config devsnap init writes', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let configDir: string;
  let config: DevsnapConfig;
  let configText: string;
  let snapshotId: string;

  beforeAll(async () => {
    source = await createTestDatabase('anon_canary');
    await loadPersonalData(source.client);
    store = await temporaryStore();
    configDir = await mkdtemp(join(tmpdir(), 'devsnap-canary-config-'));
    const generated = await generateStarterConfig(source.url, {
      importFrom: { core: join(ROOT, 'core/index.ts'), strategies: join(ROOT, 'strategies/index.ts') },
    });
    configText = generated.text;
    await writeFile(join(configDir, 'devsnap.config.ts'), configText);
    config = (await loadConfig(undefined, configDir)).config;
    snapshotId = (
      await exportSnapshot({ databaseUrl: source.url, store, config, env: { DEVSNAP_SECRET: SECRET } })
    ).snapshotId;
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
    await rm(configDir, { recursive: true, force: true });
  });

  it('generates a strict config with a commented rule for every personal column, and none for the keys that follow', () => {
    expect(configText).toContain("mode: 'strict',");
    expect(configText).toContain("secret: { env: 'DEVSNAP_SECRET' },");
    expect(configText).toContain(
      "      // public.customers.email: name looks like an email address; 300 of 300 sampled values look like an email address\n      // unique: outputs stay distinct\n      'public.customers.email': fake('internet.email'),",
    );
    expect(configText).toContain(
      "      // (no rule: it references public.customers.email (orders_customer_email_fkey) and takes that key's mapping, so joins still match)",
    );
    expect(configText).toContain("'public.customers.profile': jsonPaths({");
    expect(configText).toContain("    'public.countries': [allRows()], // ~2 rows");
    expect(configText).not.toMatch(/qzx|0199|203\.0\.113/i);
  });

  it('finds no canary in any byte of any file of the snapshot, decompressed, nor in the manifest', async () => {
    const manifest = await readManifest(store, snapshotId);
    expect(manifest.anonymisation).toMatchObject({ mode: 'strict', secret: 'env', unresolved: [] });
    const found: string[] = [];
    let decodedBytes = 0;
    for (const key of await store.list('')) {
      const bytes = await readFile(store.localPath(key));
      found.push(...findCanaries(bytes.toString('latin1'), key));
      if (!key.endsWith('.parquet')) continue;
      const table = manifest.tables.find((t) => t.files.some((file) => file.key === key));
      for await (const chunk of decodeParquetToCopyText(store.localPath(key), table?.columns ?? [])) {
        decodedBytes += chunk.length;
        found.push(...findCanaries(chunk.toString('utf8'), `${key} (decoded)`));
      }
    }
    expect(found).toEqual([]);
    // The check saw the data: every row of every table is there.
    expect(manifest.tables.find((t) => t.name === 'customers')?.rows).toBe(PERSONAL_DATA_ROWS);
    expect(decodedBytes).toBeGreaterThan(100_000);
  });

  it('records every column’s treatment in the manifest', async () => {
    const manifest = await readManifest(store, snapshotId);
    const columns = Object.fromEntries(
      manifest.tables.flatMap((t) => t.columns.map((c) => [`${t.schema}.${t.name}.${c.name}`, c.treatment])),
    );
    expect(columns['public.customers.email']).toMatchObject({
      action: 'anonymised',
      rule: 'fake(internet.email)',
      via: 'column',
      matched: 'public.customers.email',
      personal: true,
    });
    expect(columns['public.orders.customer_email']).toMatchObject({
      action: 'anonymised',
      rule: 'fake(internet.email)',
      via: 'foreign-key',
      matched: 'orders_customer_email_fkey',
    });
    expect(columns['public.customers.is_staff']).toEqual({
      action: 'exported',
      personal: false,
      classifier: [],
    });
    expect(JSON.stringify(manifest)).not.toContain(SECRET);
  });

  it('imports with every constraint enforced: fakes are valid, unique, fit varchar(n), and keys still join', async () => {
    const target = uniqueDatabaseName('anon_canary_dst');
    await importSnapshot({
      databaseUrl: serverUrl(target),
      store,
      snapshot: snapshotId,
      confirm: async () => true,
    });
    try {
      await withDatabase(target, async (client) => {
        const { rows: emails } = await client.query<{ email: string }>('SELECT email FROM public.customers');
        expect(new Set(emails.map((row) => row.email)).size).toBe(PERSONAL_DATA_ROWS);
        for (const { email } of emails) {
          expect(email).toMatch(/^[^@\s]+@example\.(com|net|org)$/);
          expect(email.length).toBeLessThanOrEqual(40);
        }
        // Every order still finds its customer, and the same email in an unrelated table got the same fake.
        const { rows: joined } = await client.query<{ orders: string; newsletter: string }>(
          `SELECT (SELECT count(*) FROM public.orders o JOIN public.customers c ON c.email = o.customer_email) AS orders,
                  (SELECT count(*) FROM public.newsletter n JOIN public.customers c ON c.email = n.email) AS newsletter`,
        );
        expect(joined[0]).toEqual({
          orders: String(PERSONAL_DATA_ROWS * 2),
          newsletter: String(PERSONAL_DATA_ROWS / 2),
        });
        const { rows: logins } = await client.query<{ n: string }>(
          'SELECT count(*) AS n FROM public.logins l JOIN public.accounts a USING (username)',
        );
        expect(logins[0]?.n).toBe(String(PERSONAL_DATA_ROWS));
        // JSON: anonymised paths replaced, everything else kept exactly (numbers too).
        const { rows: profiles } = await client.query<{
          big: string;
          theme: string;
          email: string;
          ratio: string;
        }>(
          `SELECT profile->>'big' AS big, profile->>'theme' AS theme, profile#>>'{contact,email}' AS email,
                  settings->>'ratio' AS ratio FROM public.customers LIMIT 1`,
        );
        expect(profiles[0]).toMatchObject({ big: '12345678901234567890', theme: 'dark', ratio: '1.10' });
        expect(profiles[0]?.email).toMatch(/@example\.(com|net|org)$/);
        // Birth dates moved, within ±180 days, and still satisfy the CHECK.
        const { rows: births } = await client.query<{ min: string; max: string }>(
          `SELECT min(date_of_birth)::text AS min, max(date_of_birth)::text AS max FROM public.customers`,
        );
        const { min = '', max = '' } = births[0] ?? {};
        expect(min >= '1911-05-15' && max <= '1912-05-10' && min !== max).toBe(true);
      });
    } finally {
      await dropDatabase(target);
    }
  });

  it('is deterministic: the same secret gives the same snapshot values, another secret different ones', async () => {
    const again = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config,
      env: { DEVSNAP_SECRET: SECRET },
    });
    const other = await exportSnapshot({
      databaseUrl: source.url,
      store,
      config,
      env: { DEVSNAP_SECRET: 'another-secret-0000000000000000-Xq7#Lm2' },
    });
    const first = await snapshotRows(store, snapshotId, 'public.customers');
    const second = await snapshotRows(store, again.snapshotId, 'public.customers');
    const third = await snapshotRows(store, other.snapshotId, 'public.customers');
    expect(second).toEqual(first);
    const byId = new Map(third.map((row) => [row.id, row]));
    for (const column of ['email', 'phone', 'password_hash', 'aliases', 'profile', 'notes', 'last_ip']) {
      const same = first.filter((row) => byId.get(row.id)?.[column] === row[column]).length;
      expect({ column, same }).toEqual({ column, same: 0 });
    }
    // Names come from finite lists: a few may agree by chance, not many.
    const sameNames = first.filter((row) => byId.get(row.id)?.first_name === row.first_name).length;
    expect(sameNames).toBeLessThan(PERSONAL_DATA_ROWS / 20);
  });
});
