/**
 * Built-in functions and extensions that reach past the database an import builds: the server's
 * files and programs, other sessions, the server's settings, replication, large objects, other
 * databases (dblink, foreign data wrappers), or that run SQL given as text. A snapshot's schema may
 * not call them — not in a default, a check, an index, a view, a policy or a function body — and may
 * not install these extensions. Matched by name in any schema: a quoted or qualified call is caught
 * as well, and a snapshot function of the same name is refused rather than guessed about.
 */
const FUNCTIONS = new Set([
  // Server files.
  'pg_read_file',
  'pg_read_binary_file',
  'pg_stat_file',
  'pg_ls_dir',
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'pg_file_sync',
  'pg_logdir_ls',
  'pg_current_logfile',
  // Large objects: lo_import/lo_export read and write server files.
  'loread',
  'lowrite',
  // Other sessions and the server itself.
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_log_backend_memory_contexts',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_import_system_collations',
  'pg_notify',
  'set_config',
  // SQL given as text: what it runs cannot be checked.
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'ts_stat',
  'ts_rewrite',
  // An import that never ends.
  'pg_sleep',
  'pg_sleep_for',
  'pg_sleep_until',
]);

const FUNCTION_PREFIXES = [
  'lo_',
  'pg_ls_',
  'pg_advisory',
  'pg_try_advisory',
  'pg_backup_',
  'pg_wal_',
  'pg_replication_',
  'pg_logical_',
  'pg_create_',
  'pg_drop_',
  'pg_copy_',
  'pg_stat_reset',
  'pg_stat_statements_reset',
  'binary_upgrade_',
  'dblink',
  'postgres_fdw',
];

/** Whether a call of this (unqualified, case-folded) function name is refused in a snapshot's schema. */
export function hasServerSideEffects(functionName: string): boolean {
  return FUNCTIONS.has(functionName) || FUNCTION_PREFIXES.some((prefix) => functionName.startsWith(prefix));
}

/**
 * Extensions a snapshot may not install: connections to other servers and databases, server files,
 * untrusted languages (their functions run as the server's operating-system user), raw storage.
 */
const EXTENSIONS = new Set([
  'dblink',
  'postgres_fdw',
  'file_fdw',
  'adminpack',
  'plperlu',
  'plpythonu',
  'plpython2u',
  'plpython3u',
  'pltclu',
  'pageinspect',
  'pg_surgery',
  'pg_walinspect',
  'old_snapshot',
]);

export function isRefusedExtension(name: string): boolean {
  return EXTENSIONS.has(name);
}

/** The languages a snapshot's functions may be written in: their bodies are parsed and checked. */
export const CHECKED_LANGUAGES: ReadonlySet<string> = new Set(['sql', 'plpgsql']);
