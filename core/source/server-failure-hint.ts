/**
 * What to do about a statement the target server refused, by SQLSTATE: a hint that fits the
 * cause (a full disk is not fixed by another reset mode). Undefined when there is nothing better
 * than the message itself.
 */
export function serverFailureHint(error: unknown): string | undefined {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  if (code === '53100') {
    return "The database server's disk is full: free space on it (drop databases you no longer need, or run `devsnap prune`) and import again; your database is unchanged.";
  }
  if (code === '53200') return 'The database server ran out of memory: import again when it is less busy.';
  if (code === '53300')
    return 'The database server has no free connections: close some sessions, or import with --jobs 1.';
  if (code === '42501')
    return 'The role lacks a privilege the snapshot needs: import as the owner of the database.';
  if (code === '42P07' || code === '42710' || code === '42723') {
    return 'The objects already exist: import with --reset-mode drop-tables or drop-database.';
  }
  return undefined;
}
