import { PgSource } from '../../core/source/pg-source.js';
import { checkSourcePrivileges, EXPORT_ROLE } from '../../core/source/source-privileges.js';
import { type TestDatabase, withAdmin } from './databases.js';

/** A least-privilege role made by the GRANT script devsnap prints for `db`, and its URL. */
export interface ExportRole {
  readonly name: string;
  readonly url: string;
  /** Drops the role; call after the database is dropped (its grants go with it). */
  drop(): Promise<void>;
}

/**
 * Runs devsnap's GRANT script on `db` for a role named `prefix_<db suffix>` (roles are server-wide,
 * so each test gets its own) with `password`.
 */
export async function createExportRole(
  db: TestDatabase,
  prefix: string,
  password: string,
): Promise<ExportRole> {
  const name = `${prefix}_${db.name.slice(-10)}`;
  const admin = await PgSource.connect(db.url);
  const { grantScript } = await checkSourcePrivileges(admin).finally(() => admin.close());
  await db.client.query(
    grantScript
      .replaceAll(EXPORT_ROLE, name)
      .replace("'choose-a-password'", `'${password.replaceAll("'", "''")}'`),
  );
  const url = new URL(db.url);
  url.username = name;
  url.password = encodeURIComponent(password);
  return {
    name,
    url: url.toString(),
    drop: () => withAdmin((client) => client.query(`DROP ROLE IF EXISTS ${name}`)).then(() => {}),
  };
}
