import { exportedColumns, type SchemaModel, type TableInfo } from '../schema/schema-model.js';
import type { TextValue } from '../source/source.js';
import { describeColumn } from './anonymise-column.js';
import type { AnonymiserTools, ColumnFunction, RowValues, TypeFamily } from './anonymiser.js';
import { formatJson, JsonNumber, type JsonObject, type JsonValue, parseJson } from './json-text.js';

interface BoundColumn {
  readonly name: string;
  readonly family: TypeFamily;
  /** Null when the column is exported as it is. */
  readonly fn: ColumnFunction | null;
}

/**
 * A table's column rules, applied to one of its rows that an application serialised into text:
 * a Django serializer object's `fields`, a paper_trail version's `object`. Each field gets the
 * rule of the column it is stored in, with the record as the row, so a restored revision holds
 * the values the live table holds.
 */
export class RecordRules {
  private constructor(
    readonly table: TableInfo,
    private readonly columns: ReadonlyMap<string, BoundColumn>,
  ) {}

  /** Binds the rule of every exported column of `table`. */
  static async bind(tools: AnonymiserTools, model: SchemaModel, table: TableInfo): Promise<RecordRules> {
    const columns = new Map<string, BoundColumn>();
    for (const column of exportedColumns(table)) {
      const facts = describeColumn(model, table, column);
      const fn = await tools.columnTransform(table, column.name);
      columns.set(column.name, { name: column.name, family: facts.family, fn });
    }
    return new RecordRules(table, columns);
  }

  /** The column a serialised field is stored in: its own name, or a foreign key's `<field>_id`. */
  column(field: string): BoundColumn | undefined {
    return this.columns.get(field) ?? this.columns.get(`${field}_id`);
  }

  /** True when no column of the table is anonymised (the record leaves as it is). */
  get keepsAll(): boolean {
    for (const column of this.columns.values()) if (column.fn) return false;
    return true;
  }

  /**
   * Applies the rules to a record given as field → PostgreSQL-like text, and returns the fields
   * whose rule changed them. `key` is the record's primary key text (its row identity).
   */
  applyText(fields: ReadonlyMap<string, TextValue>, key: string): Map<string, TextValue> {
    const byColumn = new Map<string, TextValue>();
    for (const [field, value] of fields) {
      const column = this.column(field);
      if (column) byColumn.set(column.name, value);
    }
    const row = recordRow(byColumn, key);
    const changed = new Map<string, TextValue>();
    for (const [field, value] of fields) {
      const fn = this.column(field)?.fn;
      if (fn) changed.set(field, fn(value, row));
    }
    return changed;
  }

  /**
   * The same for a JSON object of fields (Django's serializer, paper_trail's JSON), in place. `pk`
   * is the record's key when it is kept beside the fields (Django's `"pk"`): it gets the key
   * column's rule too, and the new key is returned.
   */
  applyJson(fields: JsonObject, pk?: JsonValue): JsonValue | undefined {
    const keyColumn =
      this.table.primaryKey?.columns.length === 1 ? this.table.primaryKey.columns[0] : undefined;
    const texts = new Map<string, TextValue>();
    for (const [field, value] of fields) {
      const text = jsonToText(value);
      if (text !== undefined) texts.set(field, text);
    }
    const withKey = pk !== undefined && keyColumn !== undefined && !fields.has(keyColumn);
    if (withKey) texts.set(keyColumn, jsonToText(pk) ?? null);
    const key = this.keyOf(texts);
    let newKey = pk;
    for (const [field, output] of this.applyText(texts, key)) {
      const family = this.column(field)?.family ?? 'text';
      if (withKey && field === keyColumn) newKey = textToJson(output, pk, family);
      else fields.set(field, textToJson(output, fields.get(field) as JsonValue, family));
    }
    return newKey;
  }

  /** The record's identity as the live table's rows have it (its primary key's text). */
  keyOf(fields: ReadonlyMap<string, TextValue>): string {
    const columns = this.table.primaryKey?.columns ?? [];
    return columns
      .map((column) => fields.get(column) ?? fields.get(column.replace(/_id$/, '')) ?? '\0null')
      .join('\u0001');
  }
}

/** A serialised field's value as PostgreSQL text output would show it; undefined for lists of keys. */
export function jsonToText(value: JsonValue): TextValue | undefined {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value instanceof JsonNumber) return value.raw;
  return formatJson(value);
}

/** Back to JSON of the same shape as `before`: numbers stay numbers, booleans booleans. */
export function textToJson(output: TextValue, before: JsonValue, family: TypeFamily): JsonValue {
  if (output === null) return null;
  if (typeof before === 'boolean' && (output === 't' || output === 'f')) return output === 't';
  if (before instanceof JsonNumber && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(output))
    return new JsonNumber(output);
  if ((Array.isArray(before) || before instanceof Map) && family === 'json') {
    try {
      return parseJson(output);
    } catch {
      return output;
    }
  }
  return output;
}

function recordRow(values: ReadonlyMap<string, TextValue>, key: string): RowValues {
  let object: Record<string, TextValue> | null = null;
  return {
    get: (column) => values.get(column) ?? null,
    toObject() {
      object ??= Object.fromEntries(values);
      return object;
    },
    key: () => key,
  };
}

/** Applies `fn` to every string leaf of a JSON value, in place where it can (objects, arrays). */
export function mapTextLeaves(value: JsonValue, fn: (text: string) => TextValue): JsonValue {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((item) => mapTextLeaves(item, fn));
  if (value instanceof Map) {
    for (const [key, item] of value) value.set(key, mapTextLeaves(item, fn));
  }
  return value;
}
