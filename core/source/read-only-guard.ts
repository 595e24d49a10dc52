import { ReadOnlyViolationError } from '../errors.js';
import { parseStatements, SqlSyntaxError } from '../sql/sql-parser.js';
import {
  type QualifiedName,
  type StatementReferences,
  statementReferences,
} from '../sql/statement-references.js';
import { type CatalogRows, catalogVerdicts, type ReferenceKind } from './catalog-safety.js';

/**
 * Settings a read may change for its own transaction (set_config(name, value, true)): the
 * introspector fixes the text formats the catalog's deparsing functions depend on. Timeouts are
 * not among them: a statement could otherwise switch them off.
 */
const SETTABLE = new Set(['search_path', 'datestyle', 'intervalstyle']);

const KINDS: readonly [ReferenceKind, keyof StatementReferences][] = [
  ['function', 'functions'],
  ['operator', 'operators'],
  ['type', 'types'],
  ['relation', 'relations'],
];

/**
 * The source's gate for every statement: parsed with PostgreSQL's own parser, it must be one
 * SELECT (or SHOW) without INTO, row locks or data-modifying parts, and every function it calls,
 * every operator and cast it uses and every relation it reads is checked against the catalog (see
 * catalogVerdicts). The export transaction is READ ONLY as well, but READ ONLY does not stop
 * dblink, pg_terminate_backend, advisory locks or set_config; this does, before the statement
 * reaches the server. Verdicts are cached per name for the life of the source.
 */
export class ReadOnlyGuard {
  private readonly verdicts = new Map<string, string | undefined>();

  constructor(private readonly catalog: CatalogRows) {}

  /** Throws ReadOnlyViolationError, naming the reason and the statement, unless `sql` is a safe read. */
  async check(sql: string): Promise<void> {
    const references = readOnlyShape(sql);
    for (const [kind, field] of KINDS) {
      const names = unique(references[field] as readonly QualifiedName[]);
      const unknown = names.filter((name) => !this.verdicts.has(cacheKey(kind, name)));
      const found = await catalogVerdicts(this.catalog, kind, unknown);
      unknown.forEach((name, i) => {
        this.verdicts.set(cacheKey(kind, name), found[i]);
      });
      for (const name of names) {
        const reason = this.verdicts.get(cacheKey(kind, name));
        if (reason !== undefined) throw refusal(sql, reason);
      }
    }
  }
}

/**
 * The statement's references when it is one plain read; throws ReadOnlyViolationError otherwise
 * (no catalog needed for this part).
 */
export function readOnlyShape(sql: string): StatementReferences {
  let references: StatementReferences;
  try {
    references = statementReferences(parseStatements(sql));
  } catch (error) {
    if (error instanceof SqlSyntaxError) throw refusal(sql, `PostgreSQL cannot parse it (${error.message})`);
    throw error;
  }
  const [problem] = references.problems;
  if (problem !== undefined) throw refusal(sql, problem);
  const setting = references.settings.find((name) => name === null || !SETTABLE.has(name.toLowerCase()));
  if (setting !== undefined) {
    throw refusal(
      sql,
      `it calls set_config(${setting === null ? '…' : `'${setting}'`}), which only devsnap may use`,
    );
  }
  return references;
}

function refusal(sql: string, reason: string): ReadOnlyViolationError {
  return new ReadOnlyViolationError(reason, {
    hint: `Statement: ${sql.replace(/\s+/g, ' ').trim().slice(0, 300)}`,
  });
}

function cacheKey(kind: ReferenceKind, name: QualifiedName): string {
  return `${kind}:${JSON.stringify(name)}`;
}

function unique(names: readonly QualifiedName[]): QualifiedName[] {
  const seen = new Map<string, QualifiedName>();
  for (const name of names) seen.set(JSON.stringify(name), name);
  return [...seen.values()];
}
