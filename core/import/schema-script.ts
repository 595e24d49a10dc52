import { SnapshotIntegrityError } from '../errors.js';
import { printable } from '../manifest-fields.js';
import { checkSchemaStatement, type SchemaScriptName } from '../sql/schema-statement-check.js';
import { loadSqlParser, nameParts, nodeType, parseStatements, SqlSyntaxError } from '../sql/sql-parser.js';

export type { SchemaScriptName } from '../sql/schema-statement-check.js';

/** One statement of a checked schema script: its exact text, and its parse for the runner. */
export interface SchemaStatement {
  readonly text: string;
  /** Parse-tree node type, e.g. `CreateStmt`, `CreatePolicyStmt`. */
  readonly type: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** 1-based line in the script where it starts. */
  readonly line: number;
}

/** A schema script whose every statement was parsed and allowed; the import runs nothing else. */
export interface SchemaScript {
  readonly name: SchemaScriptName;
  readonly statements: readonly SchemaStatement[];
  /** Functions devsnap cannot check (`line N: function f: why`); empty for most schemas. */
  readonly unchecked: readonly string[];
}

export interface SchemaScriptOptions {
  /**
   * Allow functions whose bodies cannot be checked (EXECUTE of built SQL, SECURITY DEFINER, SET
   * options): true for a snapshot signed by a trusted key, or when the user says so.
   */
  readonly allowUnchecked: boolean;
}

/**
 * Parses a schema script with PostgreSQL's own parser and checks every statement before any
 * database is touched (see checkSchemaStatement). Throws SnapshotIntegrityError listing every
 * statement the import will not run.
 */
export async function parseSchemaScript(
  sql: string,
  name: SchemaScriptName,
  options: SchemaScriptOptions,
): Promise<SchemaScript> {
  await loadSqlParser();
  const bytes = Buffer.from(sql, 'utf8');
  let raw: ReturnType<typeof parseStatements>;
  try {
    raw = parseStatements(sql);
  } catch (error) {
    const at = error instanceof SqlSyntaxError && error.position !== undefined ? error.position : undefined;
    throw new SnapshotIntegrityError(
      `The snapshot's ${name} is not valid SQL${at === undefined ? '' : ` (line ${lineCounter(bytes).at(at)})`}: ${printable((error as Error).message)}`,
      { hint: HINT },
    );
  }
  const refused: string[] = [];
  const unchecked: string[] = [];
  const lines = lineCounter(bytes);
  const statements = raw.map((statement): SchemaStatement => {
    // Offsets are in bytes of the UTF-8 text, as the server's parser counts them.
    const start = statement.stmt_location ?? 0;
    const end = statement.stmt_len ? start + statement.stmt_len : bytes.length;
    const text = bytes.subarray(start, end).toString('utf8');
    const [type, fields] = nodeType(statement.stmt) ?? ['unknown', {}];
    const line = lines.at(start + leadingSpace(text));
    const verdict = checkSchemaStatement(statement.stmt, text, name);
    const what = `line ${line}: ${label(type, fields, text)}`;
    if (verdict.refused.length > 0) refused.push(`${what}: ${[...new Set(verdict.refused)].join('; ')}`);
    if (verdict.unchecked.length > 0)
      unchecked.push(`${what}: ${[...new Set(verdict.unchecked)].join('; ')}`);
    return Object.freeze({ text, type, fields, line });
  });
  if (refused.length > 0) {
    throw new SnapshotIntegrityError(
      `The snapshot's ${name} holds statements an import never runs:\n  ${list(refused)}`,
      { hint: HINT },
    );
  }
  const script = Object.freeze({
    name,
    statements: Object.freeze(statements),
    unchecked: Object.freeze(unchecked),
  });
  if (!options.allowUnchecked) refuseUnchecked([script]);
  return script;
}

/**
 * Refuses scripts that create functions devsnap cannot check. Called once every script is known
 * to hold nothing refused outright, so that a tampered script is named as such first.
 */
export function refuseUnchecked(scripts: readonly SchemaScript[]): void {
  const unchecked = scripts.flatMap((script) => script.unchecked.map((item) => `${script.name} ${item}`));
  if (unchecked.length === 0) return;
  throw new SnapshotIntegrityError(
    `The snapshot creates functions devsnap cannot check, and no key you trust signed it:\n  ${list(unchecked)}`,
    {
      hint: 'Trust your pipeline’s signing key (devsnap trust add …) so its signed snapshots may carry them, or pass --allow-unchecked-functions for a snapshot you exported yourself.',
    },
  );
}

const HINT = 'Do not import it: a snapshot devsnap wrote holds only schema statements. Export a new one.';

function list(items: readonly string[]): string {
  const shown = items.slice(0, 20).map(printable);
  if (items.length > shown.length) shown.push(`… and ${items.length - shown.length} more`);
  return shown.join('\n  ');
}

/** `function public.f`, or the statement's first line. */
function label(type: string, fields: Record<string, unknown>, text: string): string {
  if (type === 'CreateFunctionStmt') {
    return `${fields.is_procedure ? 'procedure' : 'function'} ${nameParts(fields.funcname).join('.')}`;
  }
  return firstLine(text, 80);
}

/** A statement's first line that is not a comment, cut to `max` characters, for messages. */
export function firstLine(text: string, max: number): string {
  const line = text
    .trim()
    .split('\n')
    .find((candidate) => candidate.trim() !== '' && !candidate.trim().startsWith('--'));
  const short = (line ?? '').trim();
  return short.length > max ? `${short.slice(0, max)}…` : short;
}

function leadingSpace(text: string): number {
  const match = /^(\s|--[^\n]*\n)*/.exec(text);
  return Buffer.byteLength(match?.[0] ?? '');
}

/** Line numbers of byte offsets asked for in increasing order, counted once through the text. */
function lineCounter(bytes: Buffer) {
  let offset = 0;
  let line = 1;
  return {
    at(target: number): number {
      if (target < offset) {
        offset = 0;
        line = 1;
      }
      for (; offset < target && offset < bytes.length; offset++) if (bytes[offset] === 10) line++;
      return line;
    },
  };
}
