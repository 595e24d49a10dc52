import { loadModule, type Node, parseSync, type RawStmt, type ScanToken, scanSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';

export type { Node, RawStmt } from 'libpg-query';

/**
 * PostgreSQL's own parser (libpg-query: the server's grammar compiled to WebAssembly), so devsnap
 * reads SQL exactly as the server would: quoting, comments, dollar quotes and nesting included.
 * Regexes over SQL text are what let `"dblink_exec"(…)` and a `)` in a WHERE get through before.
 */
let loading: Promise<void> | undefined;
let loaded = false;

/** Loads the parser (once per process); call before any other function here. */
export async function loadSqlParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    loaded = true;
  });
  await loading;
}

/** A statement the parser refused; `position` is the 0-based offset of the error in the text. */
export class SqlSyntaxError extends Error {
  override name = 'SqlSyntaxError';
  constructor(
    message: string,
    readonly position: number | undefined,
  ) {
    super(message);
  }
}

/** The statements of `sql`, as PostgreSQL's parse tree (each node is `{ NodeType: fields }`). */
export function parseStatements(sql: string): RawStmt[] {
  if (!loaded) throw new Error('The SQL parser is not loaded: await loadSqlParser() first.');
  try {
    return parseSync(sql).stmts ?? [];
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const position = details?.cursorPosition;
    throw new SqlSyntaxError(
      (error as Error).message,
      position === undefined || position < 0 ? undefined : position,
    );
  }
}

/** The tokens of `sql` as PostgreSQL's lexer reads them, with their offsets in the text. */
export function scanTokens(sql: string): ScanToken[] {
  if (!loaded) throw new Error('The SQL parser is not loaded: await loadSqlParser() first.');
  return scanSync(sql).tokens;
}

/**
 * Replaces each placeholder outside literals and comments: `$n` (node-postgres) when `style` is
 * 'positional', `:name` (the RDS Data API) when it is 'named'.
 */
export function replacePlaceholders(
  sql: string,
  style: 'positional' | 'named',
  replace: (placeholder: string) => string,
): string {
  const tokens = scanTokens(sql);
  let out = '';
  let at = 0;
  tokens.forEach((token, i) => {
    const next = tokens[i + 1];
    const named =
      style === 'named' &&
      token.text === ':' &&
      next?.start === token.end &&
      /^[A-Za-z_]\w*$/.test(next.text);
    if (style === 'positional' ? token.tokenName !== 'PARAM' : !named) return;
    const end = named && next ? next.end : token.end;
    out += sql.slice(at, token.start) + replace(sql.slice(token.start, end));
    at = end;
  });
  return out + sql.slice(at);
}

/** SQL text for one parse-tree node (an expression, a sort item, a whole statement). */
export function deparseNode(node: Node): string {
  return deparseSync(node);
}

/** The node's type name and its fields: `{ FuncCall: {…} }` → ['FuncCall', {…}]. */
export function nodeType(node: unknown): [string, Record<string, unknown>] | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const entries = Object.entries(node);
  const [entry] = entries;
  if (entries.length !== 1 || !entry || !/^[A-Z]/.test(entry[0])) return undefined;
  const [type, fields] = entry;
  return fields !== null && typeof fields === 'object'
    ? [type, fields as Record<string, unknown>]
    : undefined;
}

/** Calls `visit` for every node in the tree below `root` (and root itself), depth first. */
export function visitNodes(
  root: unknown,
  visit: (type: string, fields: Record<string, unknown>) => void,
): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      stack.push(...value);
      continue;
    }
    const typed = nodeType(value);
    if (typed) visit(typed[0], typed[1]);
    stack.push(...Object.values(typed ? typed[1] : value));
  }
}

/** Fields that hold offsets into the text (`location`, PostgreSQL 18's `rexpr_list_start`, …). */
const POSITION_FIELD = /^(location|stmt_location|stmt_len)$|_(location|start|end)$/;

/** The tree without source positions, to compare two parses of the same meaning. */
export function withoutLocations(node: unknown): unknown {
  return JSON.parse(JSON.stringify(node, (key, value) => (POSITION_FIELD.test(key) ? undefined : value)));
}

/** The strings of a name list node (`[{ String: { sval } }, …]`), e.g. ['pg_catalog', 'now']. */
export function nameParts(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => {
    const typed = nodeType(item);
    return typed?.[0] === 'String' ? String(typed[1].sval ?? '') : '*';
  });
}
