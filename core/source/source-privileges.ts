import { DatabaseError, UsageError } from '../errors.js';
import type { ProgressReporter } from '../progress.js';
import { quoteIdent } from '../schema/schema-model.js';
import type { Queryable } from './queryable.js';

/** What the source role can do beyond reading, and the script that makes a role that cannot. */
export interface SourcePrivileges {
  readonly role: string;
  readonly database: string;
  /** One sentence per privilege an export does not need and should not have. */
  readonly excess: readonly string[];
  /** SQL that creates a least-privilege export role for this database (no password in it). */
  readonly grantScript: string;
}

/** What a privileged source role does in the pipeline (and the CLI): say so, or stop. */
export type PrivilegedSourcePolicy = 'warn' | 'refuse' | 'allow';

export const EXPORT_ROLE = 'devsnap_export';

interface PrivilegeRow {
  role: string;
  database: string;
  superuser: boolean;
  createrole: boolean;
  execute_program: boolean;
  write_files: boolean;
  read_files: boolean;
  signal_backend: boolean;
  dblink: boolean;
  postgres_fdw: boolean;
  writable_tables: string;
  writable_example: string | null;
  schemas: string | null;
  owners: string | null;
  row_security_tables: string;
}

/** `pg_has_role` for a predefined role, false on servers that do not have it. */
const member = (role: string) =>
  `CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '${role}')
    THEN pg_catalog.pg_has_role(current_user, '${role}', 'USAGE') ELSE false END`;
const USER_TABLES = `FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'`;
const EXTENSION_CALLABLE = (extension: string) => `EXISTS (
  SELECT 1 FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_depend d ON d.refobjid = e.oid AND d.deptype = 'e'
    AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
  WHERE e.extname = '${extension}' AND pg_catalog.has_function_privilege(d.objid, 'EXECUTE'))`;

const PRIVILEGES_QUERY = `SELECT current_user::text AS role, pg_catalog.current_database()::text AS database,
  r.rolsuper AS superuser, r.rolcreaterole AS createrole,
  ${member('pg_execute_server_program')} AS execute_program,
  ${member('pg_write_server_files')} AS write_files,
  ${member('pg_read_server_files')} AS read_files,
  ${member('pg_signal_backend')} AS signal_backend,
  ${EXTENSION_CALLABLE('dblink')} AS dblink,
  EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.fdwname = 'postgres_fdw'
    AND pg_catalog.has_foreign_data_wrapper_privilege(w.oid, 'USAGE')) AS postgres_fdw,
  (SELECT pg_catalog.count(*)::text ${USER_TABLES}
    AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')) AS writable_tables,
  (SELECT pg_catalog.min(pg_catalog.format('%I.%I', n.nspname, c.relname)) ${USER_TABLES}
    AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')) AS writable_example,
  (SELECT pg_catalog.json_agg(DISTINCT n.nspname ORDER BY n.nspname)::text ${USER_TABLES}) AS schemas,
  (SELECT pg_catalog.json_agg(DISTINCT pg_catalog.pg_get_userbyid(c.relowner)::text)::text ${USER_TABLES}) AS owners,
  (SELECT pg_catalog.count(*)::text ${USER_TABLES} AND c.relrowsecurity) AS row_security_tables
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`;

/**
 * Checks what the source role may do besides reading. READ ONLY transactions and devsnap's guard
 * refuse writes, but a least-privilege role is the guarantee that holds even if both were got
 * round: a superuser, a member of pg_execute_server_program, pg_write_server_files or
 * pg_signal_backend, or a role that can call dblink or use postgres_fdw can change the server.
 */
export async function checkSourcePrivileges(source: Queryable): Promise<SourcePrivileges> {
  const [row] = await source.query<PrivilegeRow>(PRIVILEGES_QUERY);
  if (!row) throw new DatabaseError('Could not read the source role from pg_roles.');
  const excess: string[] = [];
  if (row.superuser) excess.push('it is a superuser, which can do anything on the server');
  else {
    if (row.execute_program)
      excess.push('it is a member of pg_execute_server_program (COPY … TO PROGRAM runs shell commands)');
    if (row.write_files)
      excess.push('it is a member of pg_write_server_files (COPY … TO a file on the server)');
    if (row.signal_backend)
      excess.push('it is a member of pg_signal_backend (it can cancel and end other sessions)');
    if (row.createrole) excess.push('it has CREATEROLE');
  }
  if (row.dblink) excess.push('it can call dblink, which opens further connections that are not read-only');
  if (row.postgres_fdw) excess.push('it can use postgres_fdw, which reaches other servers');
  const writable = Number(row.writable_tables);
  if (writable > 0 && !row.superuser) {
    excess.push(
      `it can write to ${writable} table${writable === 1 ? '' : 's'} (e.g. ${row.writable_example})`,
    );
  }
  return {
    role: row.role,
    database: row.database,
    excess,
    grantScript: grantScript(row),
  };
}

/** One line for a warning or an error: which role, and what it can do that it should not. */
export function describeExcess(privileges: SourcePrivileges): string {
  return `The source role ${quoteIdent(privileges.role)} can do more than read: ${privileges.excess.join('; ')}.`;
}

function grantScript(row: PrivilegeRow): string {
  const schemas = (JSON.parse(row.schemas ?? '[]') as string[]).map(quoteIdent);
  const owners = (JSON.parse(row.owners ?? '[]') as string[]).map(quoteIdent).sort();
  const role = EXPORT_ROLE;
  const lines = [
    `-- A least-privilege role for devsnap export on ${quoteIdent(row.database)}; run it as an administrator.`,
    `CREATE ROLE ${role} LOGIN PASSWORD 'choose-a-password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;`,
    `ALTER ROLE ${role} SET default_transaction_read_only = on;`,
    `GRANT CONNECT ON DATABASE ${quoteIdent(row.database)} TO ${role};`,
  ];
  if (schemas.length > 0) {
    const list = schemas.join(', ');
    lines.push(
      `GRANT USAGE ON SCHEMA ${list} TO ${role};`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${list} TO ${role};`,
      `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${list} TO ${role};`,
      '-- Tables and sequences created later by their owners:',
      ...owners.flatMap((owner) => [
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${list} GRANT SELECT ON TABLES TO ${role};`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${list} GRANT SELECT ON SEQUENCES TO ${role};`,
      ]),
    );
  }
  const rowSecurity = Number(row.row_security_tables);
  if (rowSecurity > 0) {
    lines.push(
      `-- ${rowSecurity} table${rowSecurity === 1 ? ' has' : 's have'} row-level security: ${role} reads only the rows their policies allow.`,
      `-- If the export must see every row: ALTER ROLE ${role} BYPASSRLS;`,
    );
  }
  lines.push(`-- Then export with postgres://${role}:…@<host>/${encodeURIComponent(row.database)}`);
  return lines.join('\n');
}

/**
 * Applies the policy for a privileged source role: 'warn' reports it with the GRANT script (the
 * CLI), 'refuse' stops before anything is read (the pipeline, unless its construct allows it).
 */
export async function enforceSourcePrivileges(
  source: Queryable,
  policy: PrivilegedSourcePolicy,
  reporter: ProgressReporter,
): Promise<void> {
  if (policy === 'allow') return;
  const privileges = await checkSourcePrivileges(source);
  if (privileges.excess.length === 0) return;
  if (policy === 'refuse') {
    throw new UsageError(
      `${describeExcess(privileges)} The pipeline exports only with a role that can just read.`,
      {
        hint: `Create one with the GRANT script \`devsnap doctor --source-url <url>\` prints and store its URL in the secret, or set allowPrivilegedSourceRole on the ExportPipeline construct.`,
      },
    );
  }
  reporter.report({
    type: 'notice',
    message: `${describeExcess(privileges)} devsnap refuses writes itself, but only a role that cannot write guarantees it. A least-privilege role:\n${privileges.grantScript}`,
  });
}
