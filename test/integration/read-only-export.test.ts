import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { resolveConfig } from '../../core/config/resolve-config.js';
import { UsageError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { PostgresIntrospector } from '../../core/schema/postgres-introspector.js';
import { PgSource } from '../../core/source/pg-source.js';
import type { Source } from '../../core/source/source.js';
import { planExport } from '../../core/subset/plan-export.js';
import type { Strategy } from '../../core/subset/strategy.js';
import { checkStrategySql } from '../../core/subset/strategy-sql-check.js';
import { allRows, where } from '../../strategies/index.js';
import { runDevsnap } from '../support/cli-harness.js';
import { connectDataApi } from '../support/data-api-fixture.js';
import { type DataApiServer, startDataApiServer } from '../support/data-api-server.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The server runs COPY … TO PROGRAM as its own OS user: a file it would create, in a directory it may write. */
const PWNED = join(tmpdir(), `devsnap-pwned-${process.pid}`);

/** A strategy a team could write by hand, passing SQL the built-ins never would. */
function custom(name: string, rows: Record<string, unknown>): Strategy {
  return { name, describe: () => name, rows: () => ({ kind: 'query', ...rows }) as never };
}

/**
 * Each smuggling attempt from issue 13 (and a few more), as config SQL. The test database's role is
 * a superuser, so PostgreSQL itself would have let every one of them through.
 */
function attacks(db: TestDatabase, victimPid: number): Record<string, Strategy> {
  const url = new URL(db.url);
  const connection = `host=${url.hostname} port=${url.port} dbname=${db.name} user=${url.username} password=${url.password}`;
  return {
    dblink: where(
      `"dblink_exec"('${connection}', 'INSERT INTO public.victims VALUES (999, ''pwned'')') IS NOT NULL`,
    ),
    breakout: where(`true)) TO PROGRAM 'touch ${PWNED}' --`),
    terminate: where(`"pg_terminate_backend"(${victimPid})`),
    advisory: where('pg_try_advisory_lock(4242)'),
    timeouts: where("pg_catalog.set_config('statement_timeout', '0', false) IS NOT NULL"),
    unqualifiedSettings: where("set_config('lock_timeout', '0', false) <> ''"),
    largeObject: where("lo_import('/etc/hostname') > 0"),
    serverFile: where("pg_read_file('/etc/hostname') IS NOT NULL"),
    queryText: where(`query_to_xml('DELETE FROM public.victims RETURNING 1', true, true, '') IS NOT NULL`),
    sequence: where("nextval('public.victims_seq') > 0"),
    rowLocks: where('EXISTS (SELECT 1 FROM public.victims v FOR UPDATE)'),
    ownFunction: where('public.looks_stable() > 0'),
    ownOperator: where('t.id === 1'),
    view: where('t.id IN (SELECT id FROM public.writing_view)'),
    orderByBreakout: custom('order-by', { orderBy: `t.id) TO PROGRAM 'touch ${PWNED}' --`, limit: 1 }),
    limitBreakout: custom('limit', { limit: `1) TO PROGRAM 'touch ${PWNED}' --` }),
  };
}

describe('a superuser export refuses every smuggling attempt, with no side effect on the source', () => {
  let db: TestDatabase;
  let victim: pg.Client;
  let victimPid: number;
  let config: DevsnapConfig;
  let store: TemporaryStore;

  beforeAll(async () => {
    db = await createTestDatabase('readonly_src');
    await db.client.query(`
      CREATE EXTENSION dblink;
      CREATE TABLE public.victims (id int PRIMARY KEY, note text);
      INSERT INTO public.victims SELECT g, 'row ' || g FROM generate_series(1, 5) g;
      CREATE SEQUENCE public.victims_seq;
      -- Marked STABLE, which PostgreSQL does not verify: it reaches another connection.
      CREATE FUNCTION public.looks_stable() RETURNS int STABLE LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_catalog.pg_terminate_backend(0);
        RETURN 1;
      END $$;
      CREATE FUNCTION public.int_eq_logged(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
      CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = public.int_eq_logged);
      CREATE VIEW public.writing_view AS SELECT id FROM public.victims WHERE public.looks_stable() > 0;
    `);
    victim = new pg.Client({ connectionString: db.url, application_name: 'devsnap-test-victim' });
    await victim.connect();
    victimPid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
    config = {
      defaultStrategy: allRows(),
      tables: {
        'public.victims': Object.entries(attacks(db, victimPid)).map(([name, strategy]) => ({
          ...strategy,
          name,
        })),
      },
      anonymise: { mode: 'warn' },
    };
    store = await temporaryStore();
  });
  afterAll(async () => {
    await victim.end().catch(() => {});
    await db.drop();
    await store.remove();
    await rm(PWNED, { force: true });
  });

  /** Rows, files, sessions, locks and sequences: what any of the attacks would have changed. */
  async function expectSourceUntouched(): Promise<void> {
    expect((await db.client.query('SELECT id, note FROM public.victims ORDER BY id')).rows).toEqual(
      [1, 2, 3, 4, 5].map((id) => ({ id, note: `row ${id}` })),
    );
    await expect(access(PWNED)).rejects.toThrow(/ENOENT/);
    expect((await victim.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    expect(
      (
        await db.client.query(
          // This database's only: other test files take the import lock on the same server.
          `SELECT count(*)::int AS n FROM pg_catalog.pg_locks
            WHERE locktype = 'advisory'
              AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`,
        )
      ).rows,
    ).toEqual([{ n: 0 }]);
    expect(
      (await db.client.query('SELECT count(*)::int AS n FROM pg_catalog.pg_largeobject_metadata')).rows,
    ).toEqual([{ n: 0 }]);
    expect((await db.client.query('SELECT is_called FROM public.victims_seq')).rows).toEqual([
      { is_called: false },
    ]);
  }

  it('lists every attempt by table and strategy, with why, and reads nothing', async () => {
    const error = await exportSnapshot({ databaseUrl: db.url, store, config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as UsageError).message;
    const reasons: Record<string, RegExp> = {
      dblink: /it calls public\.dblink_exec\(\), from the dblink extension/,
      breakout: /PostgreSQL cannot parse it/,
      terminate: /it calls pg_catalog\.pg_terminate_backend\(\), a volatile function/,
      advisory: /it calls pg_catalog\.pg_try_advisory_lock\(\), a volatile function/,
      timeouts: /it calls set_config/,
      unqualifiedSettings: /it calls set_config/,
      largeObject: /it calls pg_catalog\.lo_import\(\), a volatile function/,
      serverFile: /it calls pg_catalog\.pg_read_file\(\), a volatile function/,
      queryText: /it calls pg_catalog\.query_to_xml\(\), a volatile function/,
      sequence: /it calls pg_catalog\.nextval\(\), a volatile function/,
      rowLocks: /it locks rows/,
      ownFunction: /it calls public\.looks_stable\(\), a function defined in this database/,
      ownOperator: /it uses operator ===, which runs public\.int_eq_logged\(\)/,
      view: /it reads public\.writing_view, a view/,
      orderByBreakout: /PostgreSQL cannot parse it/,
      limitBreakout: /its limit must be a whole number/,
    };
    for (const [name, reason] of Object.entries(reasons)) {
      expect(message, name).toMatch(
        new RegExp(`public\\.victims \\(strategy "${name}"\\): ${reason.source}`),
      );
    }
    expect(message.match(/public\.victims \(strategy/g)).toHaveLength(Object.keys(reasons).length);
    await expectSourceUntouched();
    // Nothing published: no snapshot folder, no latest.json.
    expect(await readdir(store.location).catch(() => [])).toEqual([]);
  });

  it('refuses them from plan too', async () => {
    await expect(planExport({ databaseUrl: db.url, config })).rejects.toThrow(
      /public\.victims \(strategy "dblink"\): it calls public\.dblink_exec\(\)/,
    );
    await expectSourceUntouched();
  });

  it('leaves the open session as it was: no lock taken, timeouts still on', async () => {
    const source = await PgSource.connect(db.url);
    try {
      await expect(checkAll(source)).rejects.toThrow(UsageError);
      const pid = (await source.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]?.pid;
      expect(
        (
          await db.client.query(
            'SELECT count(*)::int AS n FROM pg_catalog.pg_locks WHERE pid = $1 AND locktype = $2',
            [pid, 'advisory'],
          )
        ).rows,
      ).toEqual([{ n: 0 }]);
      expect(await source.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '15min' }]);
      expect(await source.query('SHOW lock_timeout')).toEqual([{ lock_timeout: '10s' }]);
    } finally {
      await source.close();
    }
    await expectSourceUntouched();
  });

  it('refuses them through the RDS Data API source as well', async () => {
    const api: DataApiServer = await startDataApiServer({ postgresUrl: serverUrl('postgres') });
    try {
      const source = await connectDataApi(api, db.name);
      try {
        await expect(checkAll(source)).rejects.toThrow(
          /"dblink"\): it calls public\.dblink_exec\(\).*"terminate"\): it calls pg_catalog\.pg_terminate_backend\(\)/,
        );
      } finally {
        await source.close();
      }
    } finally {
      await api.stop();
    }
    await expectSourceUntouched();
  });

  it('the CLI prints one line and exits 2, for export and plan, text and --json', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'devsnap-readonly-config-'));
    try {
      const configPath = join(directory, 'devsnap.config.ts');
      await writeFile(
        configPath,
        `import { where } from '${ROOT}/strategies/index.ts';
export default {
  tables: { 'public.victims': [where(\`"pg_terminate_backend"(${victimPid})\`, [], { name: 'terminate' })] },
  anonymise: { mode: 'warn' },
};
`,
      );
      for (const command of ['export', 'plan']) {
        const args = [command, '--database-url', db.url, '--config', configPath];
        if (command === 'export') args.push('--store', store.location);
        const text = await runDevsnap(args);
        expect(text.code).toBe(2);
        const lines = text.stderr.split('\n').filter((line) => line.startsWith('devsnap:'));
        expect(lines).toEqual([
          expect.stringMatching(
            /^devsnap: The config's SQL was refused; nothing was read: public\.victims \(strategy "terminate"\): it calls pg_catalog\.pg_terminate_backend\(\), a volatile function/,
          ),
        ]);
        expect(text.stderr).not.toMatch(/\n\s+at /);
        const json = await runDevsnap([...args, '--json']);
        expect(json.code).toBe(2);
        expect(JSON.parse(json.stdout)).toMatchObject({
          ok: false,
          error: { name: 'UsageError', exitCode: 2 },
        });
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
    await expectSourceUntouched();
  });

  async function checkAll(source: Source): Promise<void> {
    const model = await new PostgresIntrospector(source).introspect();
    await checkStrategySql(source, resolveConfig(config, model));
  }
});
