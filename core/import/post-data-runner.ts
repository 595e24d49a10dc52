import type pg from 'pg';
import { nodeType } from '../sql/sql-parser.js';
import type { SchemaScript, SchemaStatement } from './schema-script.js';
import { runSchemaScript } from './schema-script-runner.js';

/** A run of post-data statements: in order on one connection, or at once over several. */
export type PostDataPart =
  | { readonly kind: 'in-order'; readonly statements: readonly SchemaStatement[] }
  | {
      readonly kind: 'at-once';
      readonly statements: readonly SchemaStatement[];
      /** Per statement, the tables it locks; two statements sharing one never run together. */
      readonly tables: readonly (readonly string[])[];
    };

/** Kinds of statement that may run beside others of their kind. */
type Concurrency = 'index' | 'foreign-key' | null;

/**
 * Cuts post-data into runs by what each statement is (from its checked parse tree): keys,
 * exclusion and NOT VALID checks and indexes build independently of one another; foreign keys may
 * be checked at once where no two share a table (each locks its table and the one it references,
 * so sharing could deadlock); everything else — views, triggers, policies, the session settings —
 * runs in order between them. The statements are the script's own: running some on another
 * connection lets a snapshot do nothing it could not do already.
 */
export function planPostData(statements: readonly SchemaStatement[]): PostDataPart[] {
  const parts: PostDataPart[] = [];
  let run: { kind: Concurrency; statements: SchemaStatement[]; tables: string[][] } | null = null;
  const flush = () => {
    if (!run) return;
    if (run.kind !== null && run.statements.length > 1)
      parts.push({ kind: 'at-once', statements: run.statements, tables: run.tables });
    else {
      const last = parts.at(-1);
      if (last?.kind === 'in-order')
        parts[parts.length - 1] = { ...last, statements: [...last.statements, ...run.statements] };
      else parts.push({ kind: 'in-order', statements: run.statements });
    }
    run = null;
  };
  for (const statement of statements) {
    const { kind, tables } = concurrency(statement);
    if (!run || run.kind !== kind || kind === null) {
      flush();
      run = { kind, statements: [], tables: [] };
    }
    run.statements.push(statement);
    run.tables.push(tables);
  }
  flush();
  return parts;
}

function concurrency(statement: SchemaStatement): { kind: Concurrency; tables: string[] } {
  if (statement.type === 'IndexStmt')
    return { kind: 'index', tables: [relationName(statement.fields.relation)] };
  if (statement.type !== 'AlterTableStmt') return { kind: null, tables: [] };
  const commands = Array.isArray(statement.fields.cmds) ? statement.fields.cmds : [];
  const constraints = commands.map((command) => {
    const cmd = nodeType(command);
    if (cmd?.[0] !== 'AlterTableCmd' || cmd[1].subtype !== 'AT_AddConstraint') return null;
    const constraint = nodeType(cmd[1].def);
    return constraint?.[0] === 'Constraint' ? constraint[1] : null;
  });
  const table = relationName(statement.fields.relation);
  if (constraints.length === 1 && constraints[0]?.contype === 'CONSTR_FOREIGN')
    return { kind: 'foreign-key', tables: [table, relationName(constraints[0].pktable)] };
  const independent = new Set(['CONSTR_PRIMARY', 'CONSTR_UNIQUE', 'CONSTR_EXCLUSION', 'CONSTR_CHECK']);
  if (constraints.length > 0 && constraints.every((c) => c !== null && independent.has(String(c.contype))))
    return { kind: 'index', tables: [table] };
  return { kind: null, tables: [] };
}

function relationName(relation: unknown): string {
  const fields = (nodeType(relation)?.[1] ?? relation) as Record<string, unknown> | undefined;
  return `${String(fields?.schemaname ?? '')}.${String(fields?.relname ?? '')}`;
}

/** Session settings of the script (SET …, set_config(…)), for every connection that runs part of it. */
function settingsOf(statements: readonly SchemaStatement[]): SchemaStatement[] {
  return statements.filter(
    (statement) =>
      statement.type === 'VariableSetStmt' ||
      (statement.type === 'SelectStmt' && /^\s*SELECT pg_catalog\.set_config\(/i.test(statement.text)),
  );
}

/** Index builds sort in memory up to this; the server's default (64 MB) spills larger ones to disk. */
const MAINTENANCE_WORK_MEM = '256MB';

/** Raises maintenance_work_mem for this session only, never lowering a larger setting. */
export async function raiseMaintenanceMemory(client: pg.Client): Promise<void> {
  await client.query(
    `SELECT set_config('maintenance_work_mem', $1, false)
     WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes($1)`,
    [MAINTENANCE_WORK_MEM],
  );
}

/**
 * Runs post-data.sql: with `connect` (a database nobody else sees yet) and more than one job, its
 * keys, indexes and foreign keys over several connections as pg_restore -j does; otherwise in
 * order, as before. A failure stops the others after their current statement and is thrown once
 * every connection is idle.
 */
export async function runPostData(
  client: pg.Client,
  script: SchemaScript,
  options: { readonly connect?: () => Promise<pg.Client>; readonly jobs?: number } = {},
): Promise<void> {
  await raiseMaintenanceMemory(client);
  const jobs = Math.max(1, options.jobs ?? 1);
  const parts = options.connect && jobs > 1 ? planPostData(script.statements) : [];
  if (!options.connect || !parts.some((part) => part.kind === 'at-once')) {
    await runSchemaScript(client, script);
    return;
  }
  const settings = { ...script, statements: settingsOf(script.statements) };
  const extra: pg.Client[] = [];
  try {
    for (const part of parts) {
      if (part.kind === 'in-order') {
        await runSchemaScript(client, { ...script, statements: part.statements });
        continue;
      }
      while (extra.length < Math.min(jobs, part.statements.length) - 1) {
        const connection = await options.connect();
        extra.push(connection);
        await raiseMaintenanceMemory(connection);
        await runSchemaScript(connection, settings);
      }
      await runAtOnce(script, part, [client, ...extra]);
    }
  } finally {
    await Promise.all(extra.map((connection) => connection.end().catch(() => {})));
  }
}

async function runAtOnce(
  script: SchemaScript,
  part: Extract<PostDataPart, { kind: 'at-once' }>,
  connections: readonly pg.Client[],
): Promise<void> {
  const waiting = part.statements.map((statement, index) => ({
    statement,
    tables: part.tables[index] ?? [],
  }));
  const busy = new Set<string>();
  let failed = false;
  let wake: () => void = () => {};
  let released = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const results = await Promise.allSettled(
    connections.map(async (connection) => {
      while (!failed && waiting.length > 0) {
        const at = waiting.findIndex(({ tables }) => tables.every((table) => !busy.has(table)));
        if (at < 0) {
          // Every statement left shares a table with one running: wait for it to finish.
          await released;
          continue;
        }
        const [next] = waiting.splice(at, 1);
        if (!next) continue;
        for (const table of next.tables) busy.add(table);
        try {
          await runSchemaScript(connection, { ...script, statements: [next.statement] });
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          for (const table of next.tables) busy.delete(table);
          const done = wake;
          released = new Promise<void>((resolve) => {
            wake = resolve;
          });
          done();
        }
      }
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}
