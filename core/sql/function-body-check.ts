import { parsePlPgSQLSync } from 'libpg-query';
import { hasServerSideEffects } from './server-side-effects.js';
import { nameParts, nodeType, parseStatements, scanTokens, visitNodes } from './sql-parser.js';

/** What a function body does that the import cannot allow, or cannot check. */
export interface BodyFindings {
  /** Refused outright: a call with server side effects, a statement that is not a query. */
  readonly refused: string[];
  /** Cannot be checked: SQL built at run time (EXECUTE). Allowed only from a trusted, signed snapshot. */
  readonly unchecked: string[];
}

/**
 * Statements a function body may run: queries, data changes and work on the database's own tables
 * (a temporary table, an index, a truncate). Nothing that reaches past the database or changes who
 * may do what: no COPY to or from files or programs, roles, grants, ownership, settings, extensions,
 * foreign servers, LOAD, ALTER SYSTEM, DO.
 */
export const BODY_STATEMENTS: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'CallStmt',
  // RETURN expr, the body of a SQL-standard function.
  'ReturnStmt',
  'CreateStmt',
  'CreateTableAsStmt',
  'CreateSeqStmt',
  'ViewStmt',
  'IndexStmt',
  'DropStmt',
  'TruncateStmt',
  'LockStmt',
  'VacuumStmt',
  'RefreshMatViewStmt',
  'NotifyStmt',
  'DeclareCursorStmt',
  'FetchStmt',
  'ClosePortalStmt',
  'TransactionStmt',
]);

/** Calls with server side effects anywhere in a parse tree (an expression, a statement). */
export function sideEffectCalls(tree: unknown): string[] {
  const found: string[] = [];
  visitNodes(tree, (type, fields) => {
    if (type !== 'FuncCall') return;
    const name = nameParts(fields.funcname).at(-1) ?? '';
    if (hasServerSideEffects(name)) found.push(`calls ${name}()`);
  });
  return found;
}

/** The statements of SQL text that a body may run, and its calls, checked. */
export function checkBodySql(sql: string, findings: BodyFindings): void {
  let statements: ReturnType<typeof parseStatements>;
  try {
    statements = parseStatements(sql);
  } catch {
    // Not a whole statement (a PL/pgSQL expression): its calls are found by the lexer below.
    findings.refused.push(...sideEffectTokens(sql));
    return;
  }
  for (const { stmt } of statements) {
    const type = nodeType(stmt)?.[0] ?? 'unknown';
    if (!BODY_STATEMENTS.has(type)) findings.refused.push(`runs ${describe(type)}`);
    findings.refused.push(...sideEffectCalls(stmt));
  }
}

/**
 * Calls found by PostgreSQL's lexer: a name followed by `(`. For PL/pgSQL expressions and
 * assignments, which are not whole statements the parser takes on their own.
 */
export function sideEffectTokens(sql: string): string[] {
  const tokens = scanTokens(sql);
  const found: string[] = [];
  tokens.forEach((token, i) => {
    if (tokens[i + 1]?.text !== '(' || !/^(IDENT|[A-Z_]+)$/.test(token.tokenName)) return;
    const name = token.text.startsWith('"')
      ? token.text.slice(1, -1).replaceAll('""', '"')
      : token.text.toLowerCase();
    if (hasServerSideEffects(name)) found.push(`calls ${name}()`);
  });
  return found;
}

/** PL/pgSQL statement kinds that run SQL built from strings at run time. */
const DYNAMIC = new Set(['PLpgSQL_stmt_dynexecute', 'PLpgSQL_stmt_dynfors']);

/**
 * Checks a PL/pgSQL function (the whole CREATE FUNCTION text): every embedded statement must be a
 * query or data change, every expression free of calls with server side effects; EXECUTE of a
 * string cannot be checked.
 */
export function checkPlpgsql(createFunction: string, findings: BodyFindings): void {
  let tree: unknown;
  try {
    tree = parsePlPgSQLSync(createFunction);
  } catch (error) {
    findings.refused.push(`has a PL/pgSQL body that does not parse (${(error as Error).message})`);
    return;
  }
  visitNodes(tree, (type, fields) => {
    if (
      DYNAMIC.has(type) ||
      ((type === 'PLpgSQL_stmt_open' || type === 'PLpgSQL_stmt_return_query') && fields.dynquery)
    ) {
      findings.unchecked.push('runs SQL built at run time (EXECUTE)');
    }
    if (type !== 'PLpgSQL_expr') return;
    const query = String(fields.query ?? '');
    // parseMode 0: a whole statement (PERFORM, an embedded INSERT …); otherwise an expression.
    if ((fields.parseMode ?? 0) === 0) checkBodySql(query, findings);
    else findings.refused.push(...sideEffectTokens(query));
  });
}

/** `CopyStmt` → `COPY`, `AlterSystemStmt` → `ALTER SYSTEM`. */
export function describe(type: string): string {
  return type
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}
