import { demodulize, pluralize, underscore } from 'inflection';
import {
  type DocumentOptions,
  isMap,
  isScalar,
  isSeq,
  type ParseOptions,
  parseDocument,
  type Scalar,
  type SchemaOptions,
  type Tags,
  visit,
} from 'yaml';
import { textPiece } from '../../core/anonymise/anonymise-column.js';
import type {
  AnonymiseColumn,
  Anonymiser,
  RowValues,
  ValueFunction,
} from '../../core/anonymise/anonymiser.js';
import { findTable } from '../../core/anonymise/django-models.js';
import { formatJson, type JsonObject, type JsonValue, parseJson } from '../../core/anonymise/json-text.js';
import { mapTextLeaves, RecordRules } from '../../core/anonymise/record-rules.js';
import { UsageError } from '../../core/errors.js';
import { qualifiedName, type TableInfo } from '../../core/schema/schema-model.js';
import type { TextValue } from '../../core/source/source.js';

export interface PaperTrailOptions {
  /** The column holds `object_changes`: attribute → [before, after] (default: `object`, attribute → value). */
  readonly changes?: boolean;
  /** The column naming the record's class (default `item_type`). */
  readonly itemTypeColumn?: string;
  /** Class name → `schema.table` where Rails' naming (`Admin::UserProfile` → `user_profiles`) does not hold. */
  readonly models?: Readonly<Record<string, string>>;
  /**
   * Applied to every text of a record whose class has no table here, e.g. `scrub()`. Without it
   * such a value stops the export, naming the class.
   */
  readonly unknown?: Anonymiser;
}

/** Psych writes YAML 1.1; timestamps stay text so untouched values are written back as they were. */
const YAML_OPTIONS: DocumentOptions & ParseOptions & SchemaOptions = {
  version: '1.1',
  intAsBigInt: true,
  customTags: (tags: Tags) =>
    tags.filter((tag) =>
      typeof tag === 'string' ? tag !== 'timestamp' : tag.tag !== 'tag:yaml.org,2002:timestamp',
    ),
};

/**
 * Anonymises paper_trail's `versions.object` (or, with `changes: true`, `object_changes`) — a
 * record's attributes as YAML or JSON — with the rules of the table its `item_type` names, so a
 * user's email inside a version becomes the same fake as in `users` and `reify` still works.
 * Attributes whose column is exported as it is stay as they are.
 */
export function paperTrail(options: PaperTrailOptions = {}): Anonymiser {
  const itemTypeColumn = options.itemTypeColumn ?? 'item_type';
  const models = options.models ?? {};
  const { unknown, changes = false } = options;
  return {
    kind: 'paperTrail',
    describe: () =>
      `paperTrail(${[
        changes ? 'changes' : 'object',
        ...Object.entries(models).map(([name, table]) => `${name}=${table}`),
        ...(unknown ? [`unknown=${unknown.describe()}`] : []),
      ].join(', ')})`,
    preserveNulls: true,
    wholeValue: true,
    canVary: false,
    readsRow: true,
    validate(column) {
      const problems: string[] = [];
      if (column.family !== 'text' && column.family !== 'json')
        problems.push(
          `paperTrail() works on text and json columns, but ${column.qualified} is ${column.column.dataType}`,
        );
      if (!column.table.columns.some((c) => c.name === itemTypeColumn))
        problems.push(`paperTrail(): ${qualifiedName(column.table)} has no column ${itemTypeColumn}`);
      for (const [name, table] of Object.entries(models))
        if (!findTable(column.model, table, column.table.schema))
          problems.push(`paperTrail(): models['${name}'] names no table ${table}`);
      for (const problem of unknown?.validate?.(textPiece(column)) ?? [])
        problems.push(`paperTrail() unknown: ${problem}`);
      return problems;
    },
    async bind(column, tools) {
      const bound = new Map<string, RecordRules>();
      for (const table of column.model.tables) {
        // Versions do not hold versions: the rule's own table is left out (its other columns may
        // carry this rule too, and each would wait for the other).
        if (table.partitionRoot !== null || table === column.table) continue;
        bound.set(qualifiedName(table), await RecordRules.bind(tools, column.model, table));
      }
      const unknownFn: ValueFunction | null = unknown ? await tools.bind(unknown, textPiece(column)) : null;
      return (value, row, attempt) => {
        if (value === null) return null;
        const itemType = row.get(itemTypeColumn) ?? '';
        const table = tableOfClass(column, itemType, models);
        const rules = table ? bound.get(qualifiedName(table)) : undefined;
        const text = (leaf: string): TextValue => {
          if (!unknownFn) {
            throw new UsageError(
              `Anonymising ${column.qualified} with paperTrail(): a version of ${itemType || '(no item type)'} has no table here.`,
              {
                hint: `Name its table with paperTrail({ models: { '${itemType}': 'schema.table' } }), or treat such records as text with paperTrail({ unknown: scrub() }).`,
              },
            );
          }
          return unknownFn(leaf, row, attempt);
        };
        const isJson = column.family === 'json' || /^\s*\{/.test(value);
        const context = { column, rules, text, changes, row };
        return isJson ? anonymiseJson(value, context) : anonymiseYaml(value, context);
      };
    },
  };
}

/** Rails' table for a class: configured, else `Admin::UserProfile` → `user_profiles`, else `admin_user_profiles`. */
function tableOfClass(
  column: AnonymiseColumn,
  itemType: string,
  models: Readonly<Record<string, string>>,
): TableInfo | undefined {
  const schema = column.table.schema;
  if (models[itemType]) return findTable(column.model, models[itemType], schema);
  if (!/^[A-Z]\w*(::[A-Z]\w*)*$/.test(itemType)) return undefined;
  return (
    findTable(column.model, pluralize(underscore(demodulize(itemType))), schema) ??
    findTable(column.model, pluralize(underscore(itemType.replaceAll('::', '')).replaceAll('/', '_')), schema)
  );
}

function refuse(column: AnonymiseColumn, what: string): never {
  throw new UsageError(`Anonymising ${column.qualified} with paperTrail(): a value ${what}.`, {
    hint: 'paper_trail stores YAML or JSON objects; give this column another rule (scrub()) if it holds something else.',
  });
}

/** One version being anonymised: its column, its item's table rules (none: unknown class), its row. */
interface VersionContext {
  readonly column: AnonymiseColumn;
  readonly rules: RecordRules | undefined;
  /** The unknown rule, for every text of a record whose class has no table. */
  readonly text: (leaf: string) => TextValue;
  readonly changes: boolean;
  readonly row: RowValues;
}

function anonymiseJson(value: string, { column, rules, text, changes, row }: VersionContext): string {
  let root: JsonValue;
  try {
    root = parseJson(value);
  } catch {
    return refuse(column, 'is neither YAML nor JSON');
  }
  if (!(root instanceof Map)) return refuse(column, 'is not an object of attributes');
  if (!rules) return formatJson(mapTextLeaves(root, text));
  const itemId = row.get('item_id');
  if (!changes) {
    rules.applyJson(root, itemId ?? undefined);
    return formatJson(root);
  }
  // Each side of [before, after] is a record of its own.
  for (const side of [0, 1]) {
    const record: JsonObject = new Map();
    for (const [attribute, pair] of root) if (Array.isArray(pair)) record.set(attribute, pair[side] ?? null);
    rules.applyJson(record, itemId ?? undefined);
    for (const [attribute, output] of record) (root.get(attribute) as JsonValue[])[side] = output;
  }
  return formatJson(root);
}

function anonymiseYaml(value: string, { column, rules, text, changes, row }: VersionContext): string {
  const document = parseDocument(value, YAML_OPTIONS);
  if (document.errors.length > 0) refuse(column, 'is neither YAML nor JSON');
  const root = document.contents;
  if (!isMap(root)) return refuse(column, 'is not a map of attributes');
  if (!rules) {
    visit(document, {
      Scalar(key, node) {
        if (key !== 'key' && typeof node.value === 'string' && !node.tag) node.value = text(node.value);
      },
    });
    return document.toString({ lineWidth: 0, indentSeq: false });
  }
  const sides = changes ? [0, 1] : [null];
  for (const side of sides) {
    const nodes = new Map<string, Scalar>();
    for (const pair of root.items) {
      if (!isScalar(pair.key)) continue;
      const node = side === null ? pair.value : isSeq(pair.value) ? pair.value.items[side] : undefined;
      // Tagged values (Ruby objects such as BigDecimal) are left to the export-time check.
      if (isScalar(node) && !node.tag) nodes.set(String(pair.key.value), node);
    }
    const texts = new Map<string, TextValue>();
    for (const [attribute, node] of nodes) texts.set(attribute, scalarText(node.value));
    if (!texts.has('id')) texts.set('id', row.get('item_id'));
    for (const [attribute, output] of rules.applyText(texts, rules.keyOf(texts))) {
      const node = nodes.get(attribute);
      if (node) node.value = scalarValue(output, node.value);
    }
  }
  return document.toString({ lineWidth: 0, indentSeq: false });
}

function scalarText(value: unknown): TextValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return String(value);
}

function scalarValue(output: TextValue, before: unknown): unknown {
  if (output === null) return null;
  if (typeof before === 'boolean' && (output === 't' || output === 'f')) return output === 't';
  if (typeof before === 'bigint' && /^-?\d+$/.test(output)) return BigInt(output);
  if (typeof before === 'number' && /^-?\d+(\.\d+)?$/.test(output)) return Number(output);
  return output;
}
