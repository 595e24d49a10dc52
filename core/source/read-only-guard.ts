import { ReadOnlyViolationError } from '../errors.js';
import { mapSqlCode } from './map-sql-code.js';

const READ_KEYWORDS = new Set(['select', 'with', 'show', 'values', 'table']);

/** Ways a statement that starts like a read can still write or take locks. */
const WRITE_PATTERNS: readonly RegExp[] = [
  /\(\s*(insert|update|delete|merge)\b/i, // data-modifying CTE
  /\binto\b/i, // SELECT … INTO new_table
  /\bfor\s+(no\s+key\s+)?update\b|\bfor\s+(key\s+)?share\b/i, // row locks
  /\b(nextval|setval|pg_advisory\w*|lo_\w+|dblink\w*|pg_terminate_backend|pg_cancel_backend|pg_reload_conf)\s*\(/i,
];

/**
 * Refuses any statement that is not a single read. The export transaction is also READ ONLY, so
 * PostgreSQL refuses writes itself; this guard catches them before they reach the server and
 * names the statement, which matters more when the server is production.
 */
export function assertReadOnly(sql: string): void {
  const code = stripLiteralsAndComments(sql).trim();
  const statements = code.split(';').filter((part) => part.trim() !== '');
  const firstWord = code.match(/^[a-z_]+/i)?.[0]?.toLowerCase() ?? '';
  const write = WRITE_PATTERNS.map((pattern) => code.match(pattern)?.[0]).find(
    (match) => match !== undefined,
  );
  if (statements.length !== 1 || !READ_KEYWORDS.has(firstWord) || write !== undefined) {
    throw new ReadOnlyViolationError(
      `devsnap only reads from the source database and refused this statement${write ? ` (it contains "${write}")` : ''}: ${sql.slice(0, 200)}`,
    );
  }
}

/**
 * Blanks out string literals, quoted identifiers and comments (nested block comments included) so
 * keywords inside them do not count.
 */
function stripLiteralsAndComments(sql: string): string {
  return mapSqlCode(
    sql,
    (code) => code,
    (text) => (text.startsWith('--') || text.startsWith('/*') ? ' ' : text.startsWith('"') ? '"x"' : "''"),
  );
}
