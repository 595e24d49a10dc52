import type pg from 'pg';
import { DatabaseError, errorMessage } from '../errors.js';
import { printable } from '../manifest-fields.js';
import { serverFailureHint } from '../source/server-failure-hint.js';
import { deparseNode, nodeType } from '../sql/sql-parser.js';
import { firstLine, type SchemaScript, type SchemaStatement } from './schema-script.js';

/**
 * How every script is read: these two decide where a string ends, and the parser that checked the
 * script read it with them. A server configured otherwise would read the same text differently.
 */
const PINNED_SETTINGS = ["SET standard_conforming_strings = 'on'", "SET client_encoding = 'UTF8'"];

/**
 * Runs a checked schema script (pre-data.sql, post-data.sql) statement by statement. Each goes
 * alone through the extended query protocol, which takes exactly one statement: text the checker
 * saw as one statement can never run as two. Extensions the server lacks are named first, all at
 * once; a policy for roles the target does not have applies to those it has, else to PUBLIC.
 */
export async function runSchemaScript(client: pg.Client, script: SchemaScript): Promise<void> {
  for (const setting of PINNED_SETTINGS) await client.query(setting);
  await requireExtensions(client, script);
  for (const statement of script.statements) {
    const text =
      statement.type === 'CreatePolicyStmt' ? await policyForTarget(client, statement) : statement.text;
    try {
      await client.query(oneStatement(text));
    } catch (error) {
      throw statementError(script, statement, error);
    }
  }
}

/**
 * Runs drop.sql for the drop-tables reset, inside the caller's transaction. Objects of the snapshot
 * can depend on each other in any order (a range type on its function, a function on a type), so a
 * drop held up by another object waits for the next round; a round that drops nothing means
 * something outside the snapshot still uses one of them, and that stops the reset.
 */
export async function runDropScript(client: pg.Client, script: SchemaScript): Promise<void> {
  for (const setting of PINNED_SETTINGS) await client.query(setting);
  let pending = [...script.statements];
  for (;;) {
    const blocked: { statement: SchemaStatement; error: unknown }[] = [];
    for (const statement of pending) {
      await client.query('SAVEPOINT devsnap_drop');
      try {
        await client.query(oneStatement(statement.text));
        await client.query('RELEASE SAVEPOINT devsnap_drop');
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT devsnap_drop');
        await client.query('RELEASE SAVEPOINT devsnap_drop');
        // 2BP01: dependent_objects_still_exist.
        if ((error as { code?: string }).code !== '2BP01') throw statementError(script, statement, error);
        blocked.push({ statement, error });
      }
    }
    if (blocked.length === 0) return;
    if (blocked.length === pending.length) {
      const [first] = blocked;
      const { detail } = (first?.error ?? {}) as { detail?: string };
      throw new DatabaseError(
        `devsnap cannot reset: ${first ? firstLine(first.statement.text, 100) : ''} (objects outside the snapshot still use it)${detail ? `: ${detail}` : ''}`,
        {
          cause: first?.error,
          hint: 'Drop or change those objects, or import with --reset-mode drop-database.',
        },
      );
    }
    pending = blocked.map(({ statement }) => statement);
  }
}

/** Names every extension the snapshot creates that this server cannot install, before any is created. */
async function requireExtensions(client: pg.Client, script: SchemaScript): Promise<void> {
  const wanted = script.statements
    .filter((statement) => statement.type === 'CreateExtensionStmt')
    .map((statement) => String(statement.fields.extname));
  if (wanted.length === 0) return;
  const { rows } = await client.query<{ name: string }>(
    `SELECT w.name FROM unnest($1::text[]) AS w(name)
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a WHERE a.name = w.name)
     ORDER BY w.name`,
    [wanted],
  );
  if (rows.length > 0) {
    throw new DatabaseError(
      `PostgreSQL extensions the snapshot needs are not available on this server: ${rows.map((row) => row.name).join(', ')}`,
      {
        hint: 'Install them on the target server (the PostgreSQL contrib or extension packages), or import into a server that has them.',
      },
    );
  }
}

/**
 * A developer's server rarely has production's roles. A policy for named roles applies to those of
 * them the target has, and to PUBLIC when it has none, so that a FORCEd policy still filters the
 * developer's own queries as it filters the application's. The statement is rebuilt from its
 * checked parse tree with only the roles changed.
 */
async function policyForTarget(client: pg.Client, statement: SchemaStatement): Promise<string> {
  const roles = (statement.fields.roles as unknown[] | undefined) ?? [];
  const named = roles.filter((role) => nodeType(role)?.[1].roletype === 'ROLESPEC_CSTRING');
  if (named.length === 0) return statement.text;
  const names = named.map((role) => String(nodeType(role)?.[1].rolename));
  const { rows } = await client.query<{ rolname: string }>(
    'SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])',
    [names],
  );
  const present = new Set(rows.map((row) => row.rolname));
  if (present.size === names.length) return statement.text;
  const kept = roles.filter((role) => {
    const spec = nodeType(role)?.[1];
    return spec?.roletype !== 'ROLESPEC_CSTRING' || present.has(String(spec.rolename));
  });
  const fields = {
    ...statement.fields,
    roles: kept.length > 0 ? kept : [{ RoleSpec: { roletype: 'ROLESPEC_PUBLIC' } }],
  };
  return deparseNode({ CreatePolicyStmt: fields } as never);
}

function statementError(script: SchemaScript, statement: SchemaStatement, error: unknown): DatabaseError {
  const { detail, hint } = error as { detail?: string; hint?: string };
  return new DatabaseError(
    `The snapshot's ${script.name} failed on the target database at line ${statement.line} (${printable(firstLine(statement.text, 100))}): ${errorMessage(error)}${detail ? ` (${detail})` : ''}`,
    { cause: error, hint: serverFailureHint(error) ?? hint },
  );
}

/**
 * A query sent through the extended protocol (Parse/Bind/Execute), which the server refuses for more
 * than one statement. node-postgres supports `queryMode`; its type definitions do not list it yet.
 */
function oneStatement(text: string): pg.QueryConfig {
  return { text, queryMode: 'extended' } as pg.QueryConfig;
}
