import type pg from 'pg';
import { errorMessage } from '../errors.js';

/** One schema object of the target database, named the way PostgreSQL names it (pg_identify_object). */
export interface CatalogObject {
  /** e.g. `view`, `table constraint`, `trigger`, `policy`, `rule`, `index`, `table column`. */
  readonly type: string;
  /** e.g. `public.film_list`, `notes_film_fkey on public.notes`. */
  readonly identity: string;
  /** The table an object lives on (constraint, trigger, index, column, …), else null. */
  readonly table: string | null;
  readonly classid: number;
  readonly objid: number;
}

/** An object of the user's that the drop would take with it, and how to put it back. */
export interface DependentObject extends CatalogObject {
  /** Statements that recreate it after the load, or null when that is not possible (a column, a table). */
  readonly recreate: string | null;
}

/** What drop-tables would do to objects outside the snapshot. */
export interface DropImpact {
  /** Objects of the user's that the drop removes and the snapshot does not bring back. */
  readonly dependents: readonly DependentObject[];
}

/** `view public.my_view`: how objects are named in messages. */
export function describeObject(object: CatalogObject): string {
  return `${object.type} ${object.identity}`;
}

// Every object that a DROP … CASCADE of another can take along, in the schemas users own. Columns
// only of tables (a column of a user's table can have a snapshot table's row type), and no
// objects that belong to an extension (an extension is never dropped by a table's drop).
const INVENTORY = `
WITH objects(classid, objid, objsubid, relid, nsp) AS (
  SELECT 'pg_class'::regclass, c.oid, 0, NULL::oid, c.relnamespace FROM pg_class c
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
  UNION ALL
  SELECT 'pg_class'::regclass, i.indexrelid, 0, i.indrelid, c.relnamespace FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
  UNION ALL
  SELECT 'pg_class'::regclass, a.attrelid, a.attnum, a.attrelid, c.relnamespace FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f')
  UNION ALL
  SELECT 'pg_constraint'::regclass, k.oid, 0, NULLIF(k.conrelid, 0), k.connamespace FROM pg_constraint k
  UNION ALL
  SELECT 'pg_trigger'::regclass, t.oid, 0, t.tgrelid, c.relnamespace FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'pg_policy'::regclass, p.oid, 0, p.polrelid, c.relnamespace FROM pg_policy p
    JOIN pg_class c ON c.oid = p.polrelid
  UNION ALL
  SELECT 'pg_rewrite'::regclass, r.oid, 0, r.ev_class, c.relnamespace FROM pg_rewrite r
    JOIN pg_class c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN'
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, 0, NULL, p.pronamespace FROM pg_proc p
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, 0, NULL, t.typnamespace FROM pg_type t WHERE t.typtype IN ('d', 'e', 'r', 'm')
)
SELECT o.classid::oid AS classid, o.objid, id.type, id.identity,
       (SELECT (pg_identify_object('pg_class'::regclass, o.relid, 0)).identity) AS "table"
  FROM objects o
  JOIN pg_namespace n ON n.oid = o.nsp
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, o.objsubid) id
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype = 'e')`;

async function inventory(client: pg.Client): Promise<Map<string, CatalogObject>> {
  const { rows } = await client.query<CatalogObject>(INVENTORY);
  return new Map(rows.map((row) => [`${row.type}\0${row.identity}`, row]));
}

/**
 * Finds, before anything is changed, which objects outside the snapshot the drop-tables reset would
 * remove: it runs the drop and the snapshot's schema scripts inside a savepoint, compares the
 * catalog before, after the drop and after the rebuild, and rolls all of it back. What the drop
 * removed and the snapshot does not recreate belongs to the user (a view, a foreign key from their
 * table, a trigger or policy they added); its definition is read while it still exists.
 */
export async function probeDropImpact(
  client: pg.Client,
  steps: { readonly drop: () => Promise<void>; readonly rebuild: () => Promise<void> },
): Promise<DropImpact> {
  const before = await inventory(client);
  await client.query('SAVEPOINT devsnap_probe');
  let removed: CatalogObject[];
  let rebuilt: Map<string, CatalogObject>;
  try {
    await steps.drop();
    const afterDrop = await inventory(client);
    removed = [...before].filter(([key]) => !afterDrop.has(key)).map(([, object]) => object);
    await steps.rebuild();
    rebuilt = await inventory(client);
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT devsnap_probe');
    await client.query('RELEASE SAVEPOINT devsnap_probe');
  }
  // Snapshot tables: dropped and created again by the snapshot's scripts.
  const rebuiltTables = new Set(
    removed
      .filter((object) => isTable(object) && rebuilt.has(`${object.type}\0${object.identity}`))
      .map((object) => object.identity),
  );
  const lost = removed.filter(
    (object) =>
      !rebuilt.has(`${object.type}\0${object.identity}`) &&
      // A column of a snapshot table is part of that table: the snapshot defines its shape.
      !(object.type === 'table column' && object.table !== null && rebuiltTables.has(object.table)),
  );
  return { dependents: await withDefinitions(client, lost) };
}

function isTable(object: CatalogObject): boolean {
  return object.type === 'table' || object.type === 'foreign table';
}

/** Reads each object's definition with every name schema-qualified (search_path empty). */
async function withDefinitions(
  client: pg.Client,
  objects: readonly CatalogObject[],
): Promise<DependentObject[]> {
  if (objects.length === 0) return [];
  await client.query('SAVEPOINT devsnap_definitions');
  try {
    await client.query("SELECT set_config('search_path', '', true)");
    const result: DependentObject[] = [];
    for (const object of objects) {
      const recreate = await definitionOf(client, object);
      // An index that backs a constraint, or a partition's copy of its parent's constraint or
      // trigger, comes back with that constraint or parent.
      if (recreate === 'implied') continue;
      result.push({ ...object, recreate });
    }
    return result;
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT devsnap_definitions');
    await client.query('RELEASE SAVEPOINT devsnap_definitions');
  }
}

const DEFINITIONS: Readonly<Record<string, string>> = {
  view: `SELECT format('CREATE VIEW %s%s AS %s', c.oid::regclass,
                 CASE WHEN c.reloptions IS NULL THEN '' ELSE format(' WITH (%s)', array_to_string(c.reloptions, ', ')) END,
                 pg_get_viewdef(c.oid)) AS sql
           FROM pg_class c WHERE c.oid = $1`,
  'materialized view': `SELECT format('CREATE MATERIALIZED VIEW %s AS %s WITH %s', c.oid::regclass,
                 rtrim(pg_get_viewdef(c.oid), ';'), CASE WHEN c.relispopulated THEN 'DATA' ELSE 'NO DATA' END) AS sql
           FROM pg_class c WHERE c.oid = $1`,
  index: `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
                   OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
                 THEN 'implied' ELSE pg_get_indexdef(i.indexrelid) END AS sql
           FROM pg_index i WHERE i.indexrelid = $1`,
  'table constraint': `SELECT CASE WHEN k.conparentid <> 0 OR NOT k.conislocal THEN 'implied'
                 ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) END AS sql
           FROM pg_constraint k WHERE k.oid = $1`,
  trigger: `SELECT CASE WHEN t.tgparentid <> 0 THEN 'implied' ELSE pg_get_triggerdef(t.oid)
                 || CASE t.tgenabled WHEN 'D' THEN format('; ALTER TABLE %s DISABLE TRIGGER %I', t.tgrelid::regclass, t.tgname)
                                     WHEN 'R' THEN format('; ALTER TABLE %s ENABLE REPLICA TRIGGER %I', t.tgrelid::regclass, t.tgname)
                                     WHEN 'A' THEN format('; ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.tgrelid::regclass, t.tgname)
                                     ELSE '' END END AS sql
           FROM pg_trigger t WHERE t.oid = $1`,
  policy: `SELECT format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', p.polname, p.polrelid::regclass,
                 CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                 CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                 (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ') FROM unnest(p.polroles) r),
                 CASE WHEN p.polqual IS NULL THEN '' ELSE format(' USING (%s)', pg_get_expr(p.polqual, p.polrelid)) END,
                 CASE WHEN p.polwithcheck IS NULL THEN '' ELSE format(' WITH CHECK (%s)', pg_get_expr(p.polwithcheck, p.polrelid)) END) AS sql
           FROM pg_policy p WHERE p.oid = $1`,
  rule: 'SELECT pg_get_ruledef($1) AS sql',
  function: 'SELECT pg_get_functiondef($1) AS sql',
  procedure: 'SELECT pg_get_functiondef($1) AS sql',
};

async function definitionOf(client: pg.Client, object: CatalogObject): Promise<string | null> {
  const query = DEFINITIONS[object.type];
  if (!query) return null;
  const { rows } = await client.query<{ sql: string | null }>(query, [object.objid]);
  return rows[0]?.sql ?? null;
}

/** How each dependent fared after the load. */
export interface RecreateOutcome {
  readonly recreated: readonly DependentObject[];
  /** Objects that could not be recreated, each with the database's reason. */
  readonly failed: readonly { readonly object: DependentObject; readonly reason: string }[];
}

/**
 * Recreates the user's objects after the load, each in its own savepoint; objects that lean on
 * each other (a view on a view) are retried until no more succeed, so their order does not matter.
 */
export async function recreateDependents(
  client: pg.Client,
  dependents: readonly DependentObject[],
): Promise<RecreateOutcome> {
  const recreated: DependentObject[] = [];
  let pending = dependents.filter((object) => object.recreate !== null);
  const failed = new Map<DependentObject, string>(
    dependents
      .filter((object) => object.recreate === null)
      .map((object) => [object, 'PostgreSQL cannot recreate it; its contents would be lost']),
  );
  for (;;) {
    const next: DependentObject[] = [];
    for (const object of pending) {
      await client.query('SAVEPOINT devsnap_recreate');
      try {
        await client.query(object.recreate as string);
        await client.query('RELEASE SAVEPOINT devsnap_recreate');
        recreated.push(object);
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT devsnap_recreate');
        next.push(object);
        failed.set(object, errorMessage(error));
      }
    }
    if (next.length === 0 || next.length === pending.length) break;
    pending = next;
  }
  for (const object of recreated) failed.delete(object);
  return { recreated, failed: [...failed].map(([object, reason]) => ({ object, reason })) };
}
