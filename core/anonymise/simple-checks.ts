import type { TableInfo } from '../schema/schema-model.js';
import { identifierPattern, namedType } from './anonymise-column.js';
import type { AnonymiseColumn } from './anonymiser.js';

/** A test an output must pass; false means "draw another value". */
export type ValueCheck = (value: string) => boolean;

/**
 * The check constraints (table and domain) on one column that devsnap can evaluate: comparisons
 * of the column, or its length, with a literal, joined by AND; `= ANY (ARRAY[…])` lists; and
 * regular-expression matches. Anything else is left to the database.
 */
export function simpleChecks(column: AnonymiseColumn): ValueCheck[] {
  const definitions: { text: string; subject: RegExp }[] = [];
  for (const check of column.table.checkConstraints) {
    if (onlyColumn(column.table, check.definition) === column.column.name) {
      definitions.push({ text: check.definition, subject: identifierPattern(column.column.name) });
    }
  }
  const domain = namedType(column.model.domains, column.column);
  for (const check of domain?.checks ?? []) definitions.push({ text: check.definition, subject: /VALUE/ });
  const numeric = ['integer', 'numeric', 'float'].includes(column.family);
  const checks: ValueCheck[] = [];
  for (const { text, subject } of definitions) {
    const body = /^CHECK \((.*)\)(?: NOT VALID)?$/s.exec(text)?.[1];
    if (!body) continue;
    for (const part of splitAnd(unwrap(body))) {
      const check = parseComparison(unwrap(part), subject, numeric);
      if (check) checks.push(check);
    }
  }
  return checks;
}

function onlyColumn(table: TableInfo, definition: string): string | null {
  const named = table.columns.filter((c) =>
    identifierPattern(c.name).test(definition.replace(/'(?:[^']|'')*'/g, "''")),
  );
  return named.length === 1 ? (named[0]?.name ?? null) : null;
}

function unwrap(text: string): string {
  let result = text.trim();
  while (result.startsWith('(') && result.endsWith(')') && balanced(result.slice(1, -1)))
    result = result.slice(1, -1).trim();
  return result;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const char of text.replace(/'(?:[^']|'')*'/g, "''")) {
    if (char === '(') depth++;
    if (char === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function splitAnd(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const masked = text.replace(/'(?:[^']|'')*'/g, (literal) => '_'.repeat(literal.length));
  for (let i = 0; i < masked.length; i++) {
    if (masked[i] === '(') depth++;
    else if (masked[i] === ')') depth--;
    else if (depth === 0 && masked.startsWith(' AND ', i)) {
      parts.push(text.slice(start, i));
      start = i + 5;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const LITERAL = String.raw`(?:\(?'((?:[^']|'')*)'(?:::[\w ."]+)?\)?|\(?(-?\d+(?:\.\d+)?)\)?(?:::[\w ."]+)?)`;

function parseComparison(text: string, subject: RegExp, numeric: boolean): ValueCheck | null {
  const subjectText = `(?:\\(?(?:char_length|length)\\((?<len>[^)]+)\\)\\)?|(?<plain>[^\\s()]+?)(?:::[\\w ."]+)?)`;
  const comparison = new RegExp(`^${subjectText}\\s*(<=|>=|<>|!=|=|<|>)\\s*${LITERAL}$`).exec(text);
  if (comparison?.groups) {
    const target = comparison.groups.len ?? comparison.groups.plain ?? '';
    if (!subject.test(target)) return null;
    const operator = comparison[3] as string;
    const literalText = comparison[4]?.replaceAll("''", "'");
    const literalNumber = comparison[5];
    const byLength = comparison.groups.len !== undefined;
    const asNumber = byLength || (numeric && literalNumber !== undefined);
    const right = asNumber ? Number(literalNumber ?? literalText) : (literalText ?? literalNumber ?? '');
    return (value) => {
      const left = byLength ? [...value].length : asNumber ? Number(value) : value;
      return compare(left, operator, right);
    };
  }
  const anyList = /^\(?([^\s()]+?)\)?(?:::[\w ."]+)? = ANY \(+ARRAY\[(.*)\]\)(?:::[\w ."[\]]+)?\)*$/.exec(
    text,
  );
  if (anyList && subject.test(anyList[1] as string)) {
    const allowed = new Set(
      [...(anyList[2] as string).matchAll(/'((?:[^']|'')*)'/g)].map((m) =>
        (m[1] as string).replaceAll("''", "'"),
      ),
    );
    return (value) => allowed.has(value);
  }
  const regex = /^\(?([^\s()]+?)\)?(?:::[\w ."]+)? (~\*?) '((?:[^']|'')*)'(?:::[\w ."]+)?$/.exec(text);
  if (regex && subject.test(regex[1] as string)) {
    try {
      const pattern = new RegExp((regex[3] as string).replaceAll("''", "'"), regex[2] === '~*' ? 'i' : '');
      return (value) => pattern.test(value);
    } catch {
      return null;
    }
  }
  return null;
}

function compare(left: number | string, operator: string, right: number | string): boolean {
  switch (operator) {
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '=':
      return left === right;
    default:
      return left !== right;
  }
}
