import type { QualifiedName } from '../sql/statement-references.js';
import type { SqlParameter } from './queryable.js';

/** Runs a catalog query outside the read-only guard (`$n` parameters); rows of text values. */
export type CatalogRows = (
  sql: string,
  params: readonly SqlParameter[],
) => Promise<Record<string, unknown>[]>;

export type ReferenceKind = 'function' | 'operator' | 'type' | 'relation';

/**
 * Volatile built-ins that only read: PostgreSQL marks them volatile because their result may
 * change within a statement, not because they change anything. devsnap's own reads need the first
 * ones (snapshot export, relation sizes, sequence values).
 */
const READ_ONLY_VOLATILE = new Set([
  'pg_export_snapshot',
  'pg_relation_size',
  'pg_table_size',
  'pg_indexes_size',
  'pg_total_relation_size',
  'pg_sequence_last_value',
  // The cluster's system identifier, for the manifest (an import refuses to replace its own source).
  'pg_control_system',
  'clock_timestamp',
  'timeofday',
  'random',
  'gen_random_uuid',
  // Waits, holding nothing but its snapshot; statement_timeout ends it.
  'pg_sleep',
  // TABLESAMPLE methods (value sampling reads a share of a big table's pages).
  'system',
  'bernoulli',
]);
/** Built-ins PostgreSQL marks stable that still change the server: they assign a transaction id. */
const STATE_CHANGING_STABLE = new Set(['txid_current', 'pg_current_xact_id']);
/** Extensions whose functions reach other servers or the server's files. */
const REMOTE_EXTENSIONS = new Set(['dblink', 'postgres_fdw', 'file_fdw', 'adminpack', 'pg_cron', 'lo']);
const BUILT_IN_SCHEMAS = new Set(['pg_catalog', 'information_schema']);
/** Relations a read may name: tables, partitioned tables, materialized views, sequences. */
const PLAIN_RELATIONS = new Set(['r', 'p', 'm', 'S']);

interface ProcRow {
  readonly i: string;
  readonly schema: string;
  readonly name: string;
  readonly volatility: string;
  readonly extension: string | null;
}

const NAMES = `pg_catalog.json_array_elements(CAST($1 AS pg_catalog.json)) WITH ORDINALITY AS f(name, i)`;
const IN_SCOPE = (schema: string) =>
  `(CASE WHEN f.name->>0 IS NULL THEN ${schema} = ANY (pg_catalog.current_schemas(true)) ELSE ${schema} = f.name->>0 END)`;
/** The functions behind each name, with their schema, volatility and extension. */
const PROC_COLUMNS = `f.i::text AS i, pn.nspname::text AS schema, p.proname::text AS name,
  p.provolatile::text AS volatility, e.extname::text AS extension`;
const PROC_EXTENSION = `JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e'
LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid`;

const CANDIDATES: Readonly<Record<Exclude<ReferenceKind, 'relation'>, string>> = {
  function: `SELECT ${PROC_COLUMNS}
FROM ${NAMES}
JOIN pg_catalog.pg_proc p ON p.proname = f.name->>1
${PROC_EXTENSION}
WHERE ${IN_SCOPE('pn.nspname')}`,
  operator: `SELECT ${PROC_COLUMNS}
FROM ${NAMES}
JOIN pg_catalog.pg_operator o ON o.oprname = f.name->>1
JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace
JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode
${PROC_EXTENSION}
WHERE ${IN_SCOPE('opn.nspname')}`,
  // A cast to a type runs its input function, or a cast function into it.
  type: `SELECT ${PROC_COLUMNS}
FROM ${NAMES}
JOIN pg_catalog.pg_type t ON t.typname = f.name->>1
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
CROSS JOIN LATERAL (SELECT t.typinput::pg_catalog.oid AS fn
  UNION SELECT c.castfunc FROM pg_catalog.pg_cast c WHERE c.casttarget = t.oid AND c.castfunc <> 0) AS fns
JOIN pg_catalog.pg_proc p ON p.oid = fns.fn
${PROC_EXTENSION}
WHERE ${IN_SCOPE('tn.nspname')}`,
};

/** The relation each name reads, found as the server would: qualified, or first in the search path. */
const RELATIONS = `SELECT DISTINCT ON (f.i) f.i::text AS i, n.nspname::text AS schema, c.relname::text AS name,
  c.relkind::text AS kind
FROM ${NAMES}
JOIN pg_catalog.pg_class c ON c.relname = f.name->>1
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ${IN_SCOPE('n.nspname')}
ORDER BY f.i, pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)`;

/**
 * Why each reference may not run inside an export (undefined: it may), decided from the catalog:
 * a function (or the function behind an operator or a cast) must be a built-in or an extension's,
 * not volatile (except the read-only ones above) and not from an extension that reaches other
 * servers; a relation must be a table, not a view or a foreign table, whose reading runs code.
 * A name that resolves to several functions is judged by all of them.
 */
export async function catalogVerdicts(
  rows: CatalogRows,
  kind: ReferenceKind,
  names: readonly QualifiedName[],
): Promise<(string | undefined)[]> {
  if (names.length === 0) return [];
  const params = [JSON.stringify(names)];
  if (kind === 'relation') {
    const found = (await rows(RELATIONS, params)) as unknown as Record<
      'i' | 'schema' | 'name' | 'kind',
      string
    >[];
    return names.map((_, index) => {
      const relation = found.find((row) => Number(row.i) === index + 1);
      // Not a relation: a CTE's name, or one the server will refuse itself.
      if (!relation || BUILT_IN_SCHEMAS.has(relation.schema) || PLAIN_RELATIONS.has(relation.kind)) {
        return undefined;
      }
      const label = `${relation.schema}.${relation.name}`;
      return relation.kind === 'f'
        ? `it reads ${label}, a foreign table: reading it runs SQL on another server`
        : `it reads ${label}, a view or other relation whose reading runs code devsnap cannot check`;
    });
  }
  const found = (await rows(CANDIDATES[kind], params)) as unknown as ProcRow[];
  return names.map((name, index) => {
    const candidates = found.filter((row) => Number(row.i) === index + 1);
    const label = `${name[0] ? `${name[0]}.` : ''}${name[1]}`;
    if (candidates.length === 0) {
      return kind === 'function'
        ? `it calls ${label}(), which is not a function in the search path`
        : undefined;
    }
    const problem = candidates.map(procProblem).find((reason) => reason !== undefined);
    if (problem === undefined) return undefined;
    const lead =
      kind === 'operator'
        ? `it uses operator ${label}, which runs `
        : kind === 'type'
          ? `it casts to ${label}, which runs `
          : 'it calls ';
    return `${lead}${problem}`;
  });
}

function procProblem(proc: ProcRow): string | undefined {
  const label = `${proc.schema}.${proc.name}()`;
  const builtIn = BUILT_IN_SCHEMAS.has(proc.schema);
  if (proc.extension !== null && REMOTE_EXTENSIONS.has(proc.extension)) {
    return `${label}, from the ${proc.extension} extension, which reaches other servers or the server's files`;
  }
  if (builtIn && STATE_CHANGING_STABLE.has(proc.name)) return `${label}, which changes the server's state`;
  if (proc.volatility === 'v' && !(builtIn && READ_ONLY_VOLATILE.has(proc.name))) {
    return `${label}, a volatile function: it may change the database or the server`;
  }
  if (!builtIn && proc.extension === null) {
    return `${label}, a function defined in this database, whose body devsnap cannot check`;
  }
  return undefined;
}
