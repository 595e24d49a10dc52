import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { beginExport } from '../../core/export/begin-export.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import type { ProgressEvent } from '../../core/progress.js';
import { PgSource } from '../../core/source/pg-source.js';
import { checkSourcePrivileges, EXPORT_ROLE } from '../../core/source/source-privileges.js';
import { runDevsnap } from '../support/cli-harness.js';
import { type TestDatabase, withAdmin } from '../support/databases.js';
import { createExportRole, type ExportRole } from '../support/export-role.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const warnMode = { anonymise: { mode: 'warn' as const } };

describe('the source role is checked at connect', () => {
  let db: TestDatabase;
  let store: TemporaryStore;
  /** Roles are server-wide: names of this run's own. */
  let readOnly: ExportRole;
  let signalRole: string;

  function urlAs(role: string): string {
    const url = new URL(db.url);
    url.username = role;
    url.password = 'pw';
    return url.toString();
  }

  async function privilegesOf(url: string) {
    const source = await PgSource.connect(url);
    try {
      return await checkSourcePrivileges(source);
    } finally {
      await source.close();
    }
  }

  beforeAll(async () => {
    db = await createShopDatabase('privileges');
    signalRole = `devsnap_sig_${db.name.slice(-10)}`;
    await db.client.query(`
      CREATE SCHEMA "Audit Log";
      CREATE TABLE "Audit Log".entries (id int PRIMARY KEY, note text);
      ALTER TABLE "Audit Log".entries ENABLE ROW LEVEL SECURITY;
      CREATE EXTENSION dblink;
      CREATE ROLE ${signalRole} LOGIN PASSWORD 'pw';
      GRANT pg_signal_backend TO ${signalRole};
      GRANT INSERT ON public.orders TO ${signalRole};
    `);
    store = await temporaryStore();
  });
  afterAll(async () => {
    await db.drop();
    await store.remove();
    await readOnly?.drop();
    await withAdmin((admin) => admin.query(`DROP ROLE IF EXISTS ${signalRole}`));
  });

  it('names what a superuser can do and writes the GRANT script for this database', async () => {
    const privileges = await privilegesOf(db.url);
    expect(privileges.role).toBe('postgres');
    expect(privileges.excess).toEqual([
      'it is a superuser, which can do anything on the server',
      'it can call dblink, which opens further connections that are not read-only',
    ]);
    const script = privileges.grantScript;
    expect(script).toContain(`GRANT CONNECT ON DATABASE ${db.name} TO ${EXPORT_ROLE};`);
    expect(script).toContain(
      `GRANT SELECT ON ALL TABLES IN SCHEMA "Audit Log", "Billing", public TO ${EXPORT_ROLE};`,
    );
    expect(script).toContain(`ALTER ROLE ${EXPORT_ROLE} SET default_transaction_read_only = on;`);
    expect(script).toContain('1 table has row-level security');
    expect(script).not.toMatch(/postgres:postgres|PASSWORD 'postgres'/);
  });

  it('the script makes a role with nothing in excess, which exports the same rows', async () => {
    readOnly = await createExportRole(db, 'devsnap_ro', 'pw');
    // dblink stays callable by PUBLIC: an administrator revokes it, as the finding says.
    await db.client.query(
      `REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC; ALTER ROLE ${readOnly.name} BYPASSRLS`,
    );
    expect((await privilegesOf(readOnly.url)).excess).toEqual([]);
    const events: ProgressEvent[] = [];
    const exported = await exportSnapshot({
      databaseUrl: readOnly.url,
      store,
      config: warnMode,
      reporter: { report: (event) => events.push(event) },
    });
    const asOwner = await exportSnapshot({ databaseUrl: db.url, store, config: warnMode });
    expect(exported.tables).toEqual(
      asOwner.tables.map((table) => expect.objectContaining({ table: table.table, rows: table.rows })),
    );
    expect(
      events.filter((event) => event.type === 'notice' && /can do more than read/.test(event.message)),
    ).toEqual([]);
  });

  it('the pipeline refuses a role that can signal backends and write, before it reads anything', async () => {
    const privileges = await privilegesOf(urlAs(signalRole));
    expect(privileges.excess).toEqual(
      expect.arrayContaining([
        'it is a member of pg_signal_backend (it can cancel and end other sessions)',
        'it can write to 1 table (e.g. public.orders)',
      ]),
    );
    const pipelineStore = await temporaryStore();
    try {
      const source = await PgSource.connect(urlAs(signalRole));
      try {
        await expect(
          beginExport({ source, store: pipelineStore, config: warnMode, privilegedSource: 'refuse' }),
        ).rejects.toThrow(UsageError);
        await expect(
          beginExport({ source, store: pipelineStore, config: warnMode, privilegedSource: 'refuse' }),
        ).rejects.toThrow(/role devsnap_sig_\w+ can do more than read: .*pg_signal_backend/);
      } finally {
        await source.close();
      }
      expect(await readdir(pipelineStore.location).catch(() => [])).toEqual([]);
    } finally {
      await pipelineStore.remove();
    }
  });

  it('the CLI warns and prints the GRANT script; doctor --source-url prints it too', async () => {
    const exported = await runDevsnap([
      'export',
      '--database-url',
      db.url,
      '--store',
      store.location,
      '--config',
      join(import.meta.dirname, '../fixtures/warn-mode.config.ts'),
    ]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('! The source role postgres can do more than read: it is a superuser');
    expect(exported.stderr).toContain(
      `GRANT SELECT ON ALL TABLES IN SCHEMA "Audit Log", "Billing", public TO ${EXPORT_ROLE};`,
    );

    const doctor = await runDevsnap(['doctor', '--source-url', db.url, '--json']);
    const check = (
      JSON.parse(doctor.stdout) as { checks: { name: string; status: string; fix?: string }[] }
    ).checks.find((entry) => entry.name === 'source role');
    expect(check?.status).toBe('warn');
    expect(check?.fix).toContain(`CREATE ROLE ${EXPORT_ROLE} LOGIN`);
    const text = await runDevsnap(['doctor', '--source-url', readOnly.url]);
    expect(text.stdout).toContain(`✓ source role: ${readOnly.name} can only read ${db.name}`);
  });
});
