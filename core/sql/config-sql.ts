import {
  deparseNode,
  type Node,
  nodeType,
  parseStatements,
  SqlSyntaxError,
  withoutLocations,
} from './sql-parser.js';
import { statementReferences } from './statement-references.js';

/** Where a config's SQL goes: a WHERE condition, an ORDER BY list, or a TABLESAMPLE clause. */
export type ConfigSqlKind = 'condition' | 'orderBy' | 'sample';

/** SQL from a config that is not one expression of its kind, or that reaches for a session setting. */
export class ConfigSqlError extends Error {
  override name = 'ConfigSqlError';
}

/** Each kind's text is parsed inside a statement of its own; only the kind's part may be filled. */
const WRAPPERS: Readonly<Record<ConfigSqlKind, { prefix: string; allowed: readonly string[] }>> = {
  condition: { prefix: 'SELECT ', allowed: ['targetList'] },
  orderBy: { prefix: 'SELECT 1 ORDER BY ', allowed: ['targetList', 'sortClause'] },
  sample: { prefix: 'SELECT FROM devsnap_sampled AS t ', allowed: ['fromClause'] },
};
/** What deparsing a sampled relation puts before its TABLESAMPLE clause. */
const SAMPLED = 'devsnap_sampled AS t ';
/** Fields every parsed SELECT has, whatever its text. */
const ALWAYS = new Set(['limitOption', 'op']);

const cache = new Map<string, string>();

/**
 * Parses SQL from a config (a strategy's where, orderBy or sample) with PostgreSQL's parser into
 * exactly one expression of its kind and returns SQL text rebuilt from the parse tree, never the
 * text as given: a `)`, a `;` or a comment cannot end the expression early or add a clause to the
 * statement it goes into. The rebuilt text is parsed again and must give the same tree.
 */
export function configSql(kind: ConfigSqlKind, text: string): string {
  const key = `${kind}\u0000${text}`;
  let sql = cache.get(key);
  if (sql === undefined) {
    sql = rebuild(kind, text);
    cache.set(key, sql);
  }
  return sql;
}

function rebuild(kind: ConfigSqlKind, text: string): string {
  const parts = parseParts(kind, text);
  const rebuilt = render(kind, parts);
  const again = parseParts(kind, rebuiltText(kind, rebuilt));
  if (JSON.stringify(withoutLocations(again)) !== JSON.stringify(withoutLocations(parts))) {
    throw new ConfigSqlError(
      'devsnap could not rebuild this SQL exactly from its parse tree; write it more simply',
    );
  }
  return rebuilt;
}

/** The kind's part of the wrapper statement's parse tree; throws when anything else is there. */
function parseParts(kind: ConfigSqlKind, text: string): Node[] {
  const { prefix, allowed } = WRAPPERS[kind];
  if (text.trim() === '') throw new ConfigSqlError('it is empty');
  let statements: ReturnType<typeof parseStatements>;
  try {
    statements = parseStatements(`${prefix}${text}`);
  } catch (error) {
    if (error instanceof SqlSyntaxError) {
      const at =
        error.position === undefined
          ? ''
          : ` at character ${Math.max(1, error.position - prefix.length + 1)}`;
      throw new ConfigSqlError(`PostgreSQL cannot parse it: ${error.message}${at}`);
    }
    throw error;
  }
  if (statements.length !== 1)
    throw new ConfigSqlError(`it holds ${statements.length} statements, not one ${describe(kind)}`);
  const select = nodeType(statements[0]?.stmt);
  const fields = select?.[0] === 'SelectStmt' ? select[1] : {};
  const extra = Object.entries(fields).find(
    ([field, value]) => !allowed.includes(field) && !(ALWAYS.has(field) && isDefault(field, value)),
  );
  if (!select || extra) throw new ConfigSqlError(`it is more than one ${describe(kind)}`);
  const references = statementReferences(statements);
  const [problem] = references.problems;
  if (problem) throw new ConfigSqlError(problem);
  if (references.settings.length > 0 || references.functions.some(([, name]) => name === 'set_config')) {
    throw new ConfigSqlError('it calls set_config, which changes the session');
  }
  switch (kind) {
    case 'condition': {
      const targets = (fields.targetList ?? []) as Node[];
      const target = nodeType(targets[0]);
      if (targets.length !== 1 || target?.[0] !== 'ResTarget' || target[1].name !== undefined) {
        throw new ConfigSqlError(`it is more than one ${describe(kind)}`);
      }
      return [target[1].val as Node];
    }
    case 'orderBy':
      return (fields.sortClause ?? []) as Node[];
    case 'sample': {
      const from = (fields.fromClause ?? []) as Node[];
      if (from.length !== 1 || nodeType(from[0])?.[0] !== 'RangeTableSample') {
        throw new ConfigSqlError(`it is not one ${describe(kind)}`);
      }
      return from;
    }
  }
}

function render(kind: ConfigSqlKind, parts: readonly Node[]): string {
  const texts = parts.map((part) => {
    try {
      return deparseNode(part);
    } catch (error) {
      // The deparser lacks a few newer node types (SQL/JSON query functions, for one).
      throw new ConfigSqlError(`devsnap cannot rebuild it from its parse tree (${(error as Error).message})`);
    }
  });
  if (kind === 'sample') {
    const [sampled = ''] = texts;
    if (!sampled.startsWith(SAMPLED)) throw new ConfigSqlError(`it is not one ${describe(kind)}`);
    return sampled.slice(SAMPLED.length);
  }
  return kind === 'condition' ? `(${texts[0]})` : texts.join(', ');
}

function rebuiltText(kind: ConfigSqlKind, rebuilt: string): string {
  return kind === 'condition' ? rebuilt.slice(1, -1) : rebuilt;
}

function describe(kind: ConfigSqlKind): string {
  return kind === 'condition' ? 'condition' : kind === 'orderBy' ? 'ORDER BY list' : 'TABLESAMPLE clause';
}

function isDefault(field: string, value: unknown): boolean {
  return field === 'op' ? value === 'SETOP_NONE' : value === 'LIMIT_OPTION_DEFAULT';
}
