import { nameParts, nodeType, type RawStmt, visitNodes } from './sql-parser.js';

/** `[schema, name]` as written: schema is null when the name is unqualified (the search path decides). */
export type QualifiedName = readonly [schema: string | null, name: string];

/** What a statement reaches beyond its own text: each has to be checked against the catalog. */
export interface StatementReferences {
  /** Functions called (aggregates, window functions, set-returning functions in FROM, TABLESAMPLE methods). */
  readonly functions: readonly QualifiedName[];
  /** Operators used, by name; each runs the function behind it. */
  readonly operators: readonly QualifiedName[];
  /** Types cast to: a cast runs the type's input function or a cast function. */
  readonly types: readonly QualifiedName[];
  /** Tables, views and other relations read (CTE names too: they resolve to nothing). */
  readonly relations: readonly QualifiedName[];
  /**
   * `pg_catalog.set_config(…)` calls: the setting's name when it is a string constant and the change
   * is local to the transaction (third argument `true`), null otherwise.
   */
  readonly settings: readonly (string | null)[];
  /** Why the statement is not a plain read, when it is not. */
  readonly problems: readonly string[];
}

/** Statement kinds that only read: SELECT (also VALUES and TABLE) and SHOW. */
const READ_STATEMENTS = new Set(['SelectStmt', 'VariableShowStmt']);
const WRITE_NODES: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};
/** BETWEEN and its variants compare with these operators. */
const BETWEEN_OPERATORS: readonly string[] = ['>=', '<='];

function qualified(parts: readonly string[]): QualifiedName {
  const name = parts[parts.length - 1] ?? '';
  // A three-part name (catalog.schema.name) keeps the schema: the catalog must be this database.
  return [parts.length > 1 ? (parts[parts.length - 2] ?? null) : null, name];
}

/**
 * Reads a parsed statement's structure: whether it is a single read, and which functions, operators,
 * types and relations it reaches. Quoting is already gone in the parse tree, so `"dblink_exec"(…)`
 * is the call dblink_exec like any other spelling of it.
 */
export function statementReferences(statements: readonly RawStmt[]): StatementReferences {
  const functions: QualifiedName[] = [];
  const operators: QualifiedName[] = [];
  const types: QualifiedName[] = [];
  const relations: QualifiedName[] = [];
  const settings: (string | null)[] = [];
  const problems: string[] = [];
  if (statements.length !== 1) problems.push(`it holds ${statements.length} statements, not one`);
  const top = nodeType(statements[0]?.stmt)?.[0];
  if (top !== undefined && !READ_STATEMENTS.has(top)) {
    problems.push(`it is a ${top.replace(/Stmt$/, '')} statement, not a SELECT`);
  }
  visitNodes(
    statements.map((statement) => statement.stmt),
    (type, fields) => {
      const write = WRITE_NODES[type];
      if (write) problems.push(`it contains ${write}`);
      switch (type) {
        case 'SelectStmt':
          if (fields.intoClause) problems.push('it contains SELECT … INTO, which creates a table');
          if (fields.lockingClause) problems.push('it locks rows (FOR UPDATE/SHARE)');
          break;
        case 'FuncCall': {
          const name = qualified(nameParts(fields.funcname));
          // Judged by the setting it changes (see ReadOnlyGuard), not as a volatile function.
          if (name[0] === 'pg_catalog' && name[1] === 'set_config') settings.push(settingName(fields.args));
          else functions.push(name);
          break;
        }
        case 'RangeTableSample':
          functions.push(qualified(nameParts(fields.method)));
          break;
        case 'A_Expr': {
          const kind = String(fields.kind ?? '');
          if (kind.startsWith('AEXPR_BETWEEN') || kind.startsWith('AEXPR_NOT_BETWEEN')) {
            for (const operator of BETWEEN_OPERATORS) operators.push(['pg_catalog', operator]);
          } else operators.push(qualified(nameParts(fields.name)));
          break;
        }
        case 'SubLink':
          if (Array.isArray(fields.operName)) operators.push(qualified(nameParts(fields.operName)));
          break;
        case 'SortBy':
          if (Array.isArray(fields.useOp)) operators.push(qualified(nameParts(fields.useOp)));
          break;
        case 'TypeCast':
          types.push(qualified(nameParts((fields.typeName as { names?: unknown } | undefined)?.names)));
          break;
        case 'RangeVar':
          relations.push([
            typeof fields.schemaname === 'string' ? fields.schemaname : null,
            String(fields.relname ?? ''),
          ]);
          break;
      }
    },
  );
  return { functions, operators, types, relations, settings, problems };
}

/** The setting set_config changes, when it is a constant and the change is transaction-local. */
function settingName(args: unknown): string | null {
  const [first, , third] = Array.isArray(args) ? args.map(nodeType) : [];
  const name = first?.[0] === 'A_Const' ? (first[1].sval as { sval?: unknown } | undefined)?.sval : undefined;
  const local = third?.[0] === 'A_Const' && (third[1].boolval as { boolval?: unknown } | undefined)?.boolval;
  return typeof name === 'string' && local === true ? name : null;
}
