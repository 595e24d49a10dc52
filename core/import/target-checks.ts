import type pg from 'pg';
import { DatabaseError, UsageError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { quoteIdent } from '../schema/schema-model.js';
import type { ResetModeName } from './reset-mode.js';

/** Databases an import must never replace, whatever the reset mode, and why. */
const PROTECTED: Readonly<Record<string, string>> = {
  postgres: "it is the server's maintenance database, which tools and devsnap itself connect to",
  template0: 'it is a template database: every new database on the server is copied from one',
  template1: 'it is a template database: every new database on the server is copied from one',
};

const PICK_ANOTHER =
  'Name your development database in --database-url, e.g. postgres://localhost:5432/app_dev.';

/** Refuses a target by name alone, before anything is read or connected. */
export function refuseProtectedName(database: string): void {
  const reason = PROTECTED[database];
  if (reason) {
    throw new UsageError(`Refusing to import into "${database}": ${reason}.`, { hint: PICK_ANOTHER });
  }
}

/**
 * Checks the target server before anything is downloaded or changed: the target is not a template
 * or the snapshot's own source, and the role has the rights the reset mode needs.
 */
export async function checkTarget(
  admin: pg.Client,
  target: { readonly database: string; readonly mode: ResetModeName; readonly manifest: Manifest },
): Promise<void> {
  const { database, mode, manifest } = target;
  const { rows } = await admin.query<{
    role: string;
    can_create: boolean;
    exists: boolean;
    is_template: boolean;
    owns: boolean;
    system: string | null;
  }>(
    `SELECT current_user::text AS role,
            (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_create,
            d.oid IS NOT NULL AS exists, coalesce(d.datistemplate, false) AS is_template,
            coalesce(pg_has_role(d.datdba, 'MEMBER'), false) AS owns,
            CASE WHEN has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
                 THEN (pg_control_system()).system_identifier::text END AS system
       FROM (SELECT 1) one LEFT JOIN pg_database d ON d.datname = $1`,
    [database],
  );
  const facts = rows[0];
  if (!facts) return;
  if (facts.is_template) {
    throw new UsageError(`Refusing to import into "${database}": ${PROTECTED.template1}.`, {
      hint: PICK_ANOTHER,
    });
  }
  const { source } = manifest;
  if (source.systemIdentifier && source.systemIdentifier === facts.system && source.database === database) {
    throw new UsageError(
      `Refusing to import into "${database}": it is the database snapshot ${manifest.snapshotId} was exported from.`,
      { hint: PICK_ANOTHER },
    );
  }
  if (mode !== 'drop-database') return;
  const role = quoteIdent(facts.role);
  if (!facts.can_create) {
    throw new DatabaseError(
      `Role ${role} may not create databases, which --reset-mode drop-database (the default) needs to build the new "${database}" beside the old one.`,
      {
        hint: `Either grant it (as a superuser: ALTER ROLE ${role} CREATEDB), or import with --reset-mode drop-tables, which works inside the existing database.`,
      },
    );
  }
  if (facts.exists && !facts.owns) {
    throw new DatabaseError(
      `Role ${role} does not own database "${database}", which --reset-mode drop-database must rename and drop.`,
      {
        hint: `Either make it the owner (ALTER DATABASE ${quoteIdent(database)} OWNER TO ${role}), or import with --reset-mode drop-tables.`,
      },
    );
  }
}
