import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import type { ProgressEvent } from '../../core/progress.js';
import { runDevsnap } from '../support/cli-harness.js';
import {
  dropDatabase,
  queryDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
} from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const yes = async () => true;

/** The user's own objects around the snapshot's tables, in a database that holds an earlier import. */
const USER_OBJECTS = `
  CREATE VIEW public.my_orders AS
    SELECT o.id, u.email FROM public.orders o JOIN public.users u ON u.id = o.user_id;
  CREATE VIEW public.my_order_count AS SELECT count(*) AS n FROM public.my_orders;
  CREATE TABLE public.my_notes (order_id integer REFERENCES public.orders (id), body text);
  INSERT INTO public.my_notes VALUES (1, 'call back');
  CREATE FUNCTION public.my_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
  CREATE TRIGGER my_orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.my_touch();
  ALTER TABLE public.orders DISABLE TRIGGER my_orders_touch;
  CREATE POLICY my_users_policy ON public.users USING (email IS NOT NULL);
  CREATE RULE my_no_delete AS ON DELETE TO public.shipments DO INSTEAD NOTHING;
  CREATE INDEX my_orders_note_idx ON public.orders (note);
`;

/** Every non-internal object of the user's, by kind, as the catalog names it. */
async function userObjects(database: string): Promise<string[]> {
  const rows = await queryDatabase<{ object: string }>(
    database,
    `SELECT 'view ' || c.relname AS object FROM pg_class c WHERE c.relname LIKE 'my\\_%' AND c.relkind = 'v'
     UNION ALL SELECT 'index ' || c.relname FROM pg_class c WHERE c.relname LIKE 'my\\_%' AND c.relkind = 'i'
     UNION ALL SELECT 'constraint ' || conname FROM pg_constraint WHERE conname LIKE 'my\\_%'
     UNION ALL SELECT 'trigger ' || tgname || ' ' || tgenabled::text FROM pg_trigger WHERE tgname LIKE 'my\\_%'
     UNION ALL SELECT 'policy ' || polname FROM pg_policy WHERE polname LIKE 'my\\_%'
     UNION ALL SELECT 'rule ' || rulename FROM pg_rules WHERE rulename LIKE 'my\\_%'
     ORDER BY 1`,
  );
  return rows.map((row) => row.object);
}

describe('drop-tables never touches anything outside the snapshot', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let target: string;

  beforeAll(async () => {
    source = await createShopDatabase('dep_src');
    store = await temporaryStore();
    await exportSnapshot({ databaseUrl: source.url, store, config: { anonymise: { mode: 'warn' } } });
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });
  beforeEach(async () => {
    target = uniqueDatabaseName('dep_dst');
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${target}`));
    await importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'none' });
    await queryDatabase(target, USER_OBJECTS);
  });
  afterEach(async () => {
    await dropDatabase(target);
  });

  it('recreates the views, foreign keys, triggers, policies, rules and indexes of yours after the load', async () => {
    const before = await userObjects(target);
    expect(before).toHaveLength(7);
    const events: ProgressEvent[] = [];
    const questions: string[] = [];
    const result = await importSnapshot({
      databaseUrl: serverUrl(target),
      store,
      resetMode: 'drop-tables',
      confirm: async (question) => {
        questions.push(question);
        return true;
      },
      reporter: { report: (event) => events.push(event) },
    });
    expect(await userObjects(target)).toEqual(before);
    expect([...(result.dependents?.recreated ?? [])].sort()).toEqual([
      'index public.my_orders_note_idx',
      'policy my_users_policy on public.users',
      'rule my_no_delete on public.shipments',
      'table constraint my_notes_order_id_fkey on public.my_notes',
      'trigger my_orders_touch on public.orders',
      'view public.my_order_count',
      'view public.my_orders',
    ]);
    expect(result.dependents?.dropped).toEqual([]);
    expect(questions[0]).toMatch(/7 objects of yours that depend on them will be recreated after the load: /);
    expect(events).toContainEqual({ type: 'phase', phase: 'recreate', detail: '7 objects of yours' });
    // The user's rows and the recreated view work on the new data.
    expect(await queryDatabase(target, 'SELECT body FROM public.my_notes')).toEqual([{ body: 'call back' }]);
    expect(await queryDatabase(target, 'SELECT n::int FROM public.my_order_count')).toEqual([{ n: 501 }]);
  });

  it('refuses with nothing changed when a foreign key of yours no longer holds, naming the option', async () => {
    await queryDatabase(
      target,
      `INSERT INTO public.orders (id, user_id, total) VALUES (99999, 1, 5);
       INSERT INTO public.my_notes VALUES (99999, 'my own order')`,
    );
    const before = await userObjects(target);
    const run = await runDevsnap([
      'import',
      '--store',
      store.location,
      '--database-url',
      serverUrl(target),
      '--reset-mode',
      'drop-tables',
      '--yes',
    ]);
    expect(run.code).toBe(3);
    // Progress lines come first; the error is the end of stderr.
    expect(run.stderr.slice(run.stderr.indexOf('devsnap: '))).toBe(
      `devsnap: Not importing into "${target}": drop-tables would drop 1 object of yours that depends on the snapshot's tables and cannot be recreated on the new ones; nothing was changed.\n` +
        '  table constraint my_notes_order_id_fkey on public.my_notes: insert or update on table "my_notes" violates foreign key constraint "my_notes_order_id_fkey"\n' +
        '  Change or drop it yourself, pass --drop-dependents to let the import drop it, or import with --reset-mode drop-database.\n',
    );
    expect(await userObjects(target)).toEqual(before);
    expect(await queryDatabase(target, 'SELECT count(*)::int AS n FROM public.orders')).toEqual([{ n: 502 }]);

    const events: ProgressEvent[] = [];
    const result = await importSnapshot({
      databaseUrl: serverUrl(target),
      store,
      resetMode: 'drop-tables',
      dropDependents: true,
      confirm: yes,
      reporter: { report: (event) => events.push(event) },
    });
    expect(result.dependents?.dropped).toEqual([
      'table constraint my_notes_order_id_fkey on public.my_notes',
    ]);
    expect(events).toContainEqual({
      type: 'notice',
      message:
        'Dropped table constraint my_notes_order_id_fkey on public.my_notes (--drop-dependents): insert or update on table "my_notes" violates foreign key constraint "my_notes_order_id_fkey".',
    });
    expect(await userObjects(target)).toEqual(before.filter((object) => !object.includes('fkey')));
    // Only the constraint went: the user's rows stay.
    expect(await queryDatabase(target, 'SELECT count(*)::int AS n FROM public.my_notes')).toEqual([{ n: 2 }]);
    expect(await queryDatabase(target, 'SELECT count(*)::int AS n FROM public.orders')).toEqual([{ n: 501 }]);
  });

  it('refuses before any change when a column of yours would go with a snapshot table', async () => {
    await queryDatabase(
      target,
      `CREATE TABLE public.my_archive (kept public.orders); INSERT INTO public.my_archive SELECT o FROM public.orders o LIMIT 3`,
    );
    const confirm = async () => {
      throw new Error('must not be asked');
    };
    await expect(
      importSnapshot({ databaseUrl: serverUrl(target), store, resetMode: 'drop-tables', confirm }),
    ).rejects.toThrow(
      `Not importing into "${target}": drop-tables would drop 1 object of yours that depends on the snapshot's tables and cannot be recreated on the new ones; nothing was changed.\n` +
        '  table column public.my_archive.kept: cannot be recreated',
    );
    expect(await queryDatabase(target, 'SELECT count(kept)::int AS n FROM public.my_archive')).toEqual([
      { n: 3 },
    ]);
    expect(await userObjects(target)).toHaveLength(7);
  });
});
