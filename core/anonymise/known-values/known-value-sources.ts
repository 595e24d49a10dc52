import { exportedColumns, quoteIdent, quoteQualified, type TableInfo } from '../../schema/schema-model.js';
import type { Source, TextValue } from '../../source/source.js';
import type { ColumnTreatment } from '../anonymise-config.js';
import type { AnonymiseColumn, Anonymiser } from '../anonymiser.js';
import { categoryForName } from '../column-classifier.js';
import { compileJsonPath, JsonNumber, type JsonValue, parseJson, updateJsonPath } from '../json-text.js';
import { parsePgArray, pgArrayElements } from '../pg-array-text.js';
import type { KnownValueIndexBuilder, KnownValueSource } from './known-value-index.js';
import { categoryKind, type PersonalValueKind } from './personal-value-kind.js';

/** A column, or a JSON path in one, whose rule says it holds personal values of a kind. */
export interface IndexedSource extends KnownValueSource {
  readonly facts: AnonymiseColumn;
  /** `$.name` inside a JSON column, or null for the column's own values. */
  readonly path: string | null;
  /** The rule the values get there: the column's, or the path's inside jsonPaths(). */
  readonly rule: Anonymiser;
}

/** Rules whose outputs are made up from the value (or replace it): their column's values are indexed by its name. */
const REPLACING_RULES = new Set(['fake', 'hash', 'constant', 'null', 'keepIf']);
/** Sources beyond this are left out (tags are 15 bits; no real config comes near). */
const MAX_SOURCES = 32_767;

/**
 * The columns and JSON paths whose values go into the export's known-value index: every one whose
 * rule fakes or hashes a kind of personal value — as the rule says (`fake('person.firstName')`)
 * or, for rules that do not say (`hash()`), as the column's name does (`username`). Columns kept
 * as they are, scrubbed or following a key are not sources. Sorted by key, so that every process
 * of a distributed export derives the same list from the same config.
 */
export function knownValueSources(
  treatments: ReadonlyMap<string, ColumnTreatment>,
  facts: (key: string) => AnonymiseColumn | undefined,
): IndexedSource[] {
  const sources: IndexedSource[] = [];
  for (const [key, treatment] of treatments) {
    if (treatment.kind !== 'rule' || treatment.rule.keepReason !== undefined) continue;
    const column = facts(key);
    if (!column) continue;
    const { rule } = treatment;
    if (rule.jsonRules) {
      for (const [path, pathRule] of rule.jsonRules) {
        const kind = pathRule.valueKind ?? jsonKeyKind(path, pathRule);
        if (indexed(kind)) sources.push({ key: `${key} ${path}`, kind, facts: column, path, rule: pathRule });
      }
      continue;
    }
    if (column.family !== 'text' && column.family !== 'other') continue;
    const kind = rule.valueKind ?? (REPLACING_RULES.has(rule.kind) ? nameKind(column) : undefined);
    if (indexed(kind)) sources.push({ key, kind, facts: column, path: null, rule });
  }
  return sources.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, MAX_SOURCES);
}

/**
 * Emails are left to the email detector, which finds every one by its form (and scrub() gives it
 * `fake('internet.email')`, the rule init writes for email columns): a user's email is a distinct
 * value, so indexing them would double the index for nothing.
 */
export function indexed(kind: PersonalValueKind | undefined): kind is PersonalValueKind {
  return kind !== undefined && kind !== 'email';
}

function nameKind(column: AnonymiseColumn): PersonalValueKind | undefined {
  const category = categoryForName(column.column.name, column.family, column.table.name);
  return category ? categoryKind(category.id) : undefined;
}

/** `$.city` under a rule that does not say what it makes: the key's name does. */
function jsonKeyKind(path: string, rule: Anonymiser): PersonalValueKind | undefined {
  if (!REPLACING_RULES.has(rule.kind)) return undefined;
  const key = /([A-Za-z_][\w]*)['"\]]*$/.exec(path)?.[1];
  if (!key) return undefined;
  if (/^(city|town|locality)$/i.test(key)) return 'city';
  const category = categoryForName(key, 'text');
  return category ? categoryKind(category.id) : undefined;
}

/**
 * Reads every value of the sources from their whole tables (not only the exported rows: free
 * text mentions people outside the subset) inside the export's snapshot, and adds them to the
 * index being built. A keepIf() source leaves out the values its rule keeps (service accounts are
 * exported as they are, so text may name them too). Values stream past; none is kept.
 */
export async function readKnownValues(
  source: Source,
  sources: readonly IndexedSource[],
  builder: KnownValueIndexBuilder,
): Promise<number> {
  let values = 0;
  const byTable = new Map<TableInfo, number[]>();
  sources.forEach((entry, index) => {
    byTable.set(entry.facts.table, [...(byTable.get(entry.facts.table) ?? []), index]);
  });
  for (const [table, indexes] of byTable) {
    const keeps = indexes.some((index) => sources[index]?.rule.keeps !== undefined);
    const columns = keeps
      ? exportedColumns(table).map((column) => column.name)
      : [...new Set(indexes.map((index) => sources[index]?.facts.column.name as string))];
    const readers = indexes.map((index) => {
      const entry = sources[index] as IndexedSource;
      return {
        index,
        entry,
        at: columns.indexOf(entry.facts.column.name),
        path: entry.path === null ? null : compileJsonPath(entry.path),
      };
    });
    const list = columns.map((name) => `${quoteIdent(name)}::text`).join(', ');
    const from = `${table.kind === 'partitioned' ? '' : 'ONLY '}${quoteQualified(table)}`;
    for await (const batch of source.streamRows(`SELECT ${list} FROM ${from}`)) {
      for (const row of batch) {
        let object: Record<string, TextValue> | null = null;
        for (const { index, entry, at, path } of readers) {
          const value = row[at] ?? null;
          if (value === null) continue;
          if (entry.rule.keeps) {
            object ??= Object.fromEntries(columns.map((name, i) => [name, row[i] ?? null]));
            if (entry.rule.keeps(object)) continue;
          }
          for (const text of path ? leavesAt(value, path) : elements(value, entry.facts.isArray)) {
            builder.add(index, text);
            values++;
          }
        }
      }
    }
  }
  return values;
}

function elements(value: string, isArray: boolean): string[] {
  if (!isArray) return [value];
  try {
    return pgArrayElements(parsePgArray(value).elements).filter((item): item is string => item !== null);
  } catch {
    return [];
  }
}

function leavesAt(value: string, path: ReturnType<typeof compileJsonPath>): string[] {
  const texts: string[] = [];
  const collect = (node: JsonValue): JsonValue => {
    if (typeof node === 'string') texts.push(node);
    else if (node instanceof JsonNumber) texts.push(node.raw);
    else if (Array.isArray(node)) node.forEach(collect);
    else if (node instanceof Map) for (const item of node.values()) collect(item);
    return node;
  };
  try {
    updateJsonPath(parseJson(value), path, collect);
  } catch {
    // Not JSON: the column's rule reports it when the row is exported.
  }
  return texts;
}
