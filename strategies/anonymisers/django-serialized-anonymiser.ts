import { textPiece } from '../../core/anonymise/anonymise-column.js';
import type { AnonymiseColumn, Anonymiser, ValueFunction } from '../../core/anonymise/anonymiser.js';
import { djangoModelTable, findTable } from '../../core/anonymise/django-models.js';
import { formatJson, type JsonObject, type JsonValue, parseJson } from '../../core/anonymise/json-text.js';
import { mapTextLeaves, RecordRules } from '../../core/anonymise/record-rules.js';
import { UsageError } from '../../core/errors.js';
import { qualifiedName } from '../../core/schema/schema-model.js';

export interface DjangoSerializedOptions {
  /**
   * `app_label.model` → `schema.table` for models whose table is not Django's default
   * `<app_label>_<model>` (a `db_table` in the model's Meta).
   */
  readonly models?: Readonly<Record<string, string>>;
  /**
   * Applied to every text inside the fields of an object whose model has no table here (a model
   * since deleted, a table outside the export), e.g. `scrub()`. Without it such a value stops the
   * export, naming the model.
   */
  readonly unknown?: Anonymiser;
}

/**
 * Anonymises Django serializer JSON (`[{"model": "app.model", "pk": 1, "fields": {…}}]`, as
 * django-reversion stores it in `reversion_version.serialized_data`) with the rules of the table
 * each object comes from: a user's `first_name` inside a revision becomes the same fake as in
 * `auth_user`, so `revert()` restores consistent, loadable rows. Fields whose column is exported
 * as it is stay as they are; foreign keys (`author` → `author_id`) follow their column.
 */
export function djangoSerialized(options: DjangoSerializedOptions = {}): Anonymiser {
  const models = options.models ?? {};
  const unknown = options.unknown;
  return {
    kind: 'djangoSerialized',
    describe: () =>
      `djangoSerialized(${[
        ...Object.entries(models).map(([label, table]) => `${label}=${table}`),
        ...(unknown ? [`unknown=${unknown.describe()}`] : []),
      ].join(', ')})`,
    preserveNulls: true,
    wholeValue: true,
    canVary: false,
    validate(column) {
      const problems: string[] = [];
      if (column.family !== 'text' && column.family !== 'json') {
        problems.push(
          `djangoSerialized() works on text and json columns, but ${column.qualified} is ${column.column.dataType}`,
        );
      }
      for (const [label, table] of Object.entries(models)) {
        if (!/^[\w]+\.[\w]+$/.test(label))
          problems.push(`djangoSerialized(): models key ${label} is not an app_label.model label`);
        else if (!findTable(column.model, table, column.table.schema))
          problems.push(`djangoSerialized(): models.${label} names no table ${table}`);
      }
      for (const problem of unknown?.validate?.(textPiece(column)) ?? [])
        problems.push(`djangoSerialized() unknown: ${problem}`);
      return problems;
    },
    async bind(column, tools) {
      const tables = new Map<string, RecordRules | null>();
      // Bound up front: the value function is synchronous, and any model may appear in a value.
      for (const table of column.model.tables) {
        // Versions do not hold versions: the rule's own table is left out (its other columns may
        // carry this rule too, and each would wait for the other).
        if (table.partitionRoot !== null || table === column.table) continue;
        tables.set(qualifiedName(table), await RecordRules.bind(tools, column.model, table));
      }
      const rulesFor = (label: string): RecordRules | null => {
        const table = djangoModelTable(column.model, label, column.table.schema, models);
        return table ? (tables.get(qualifiedName(table)) ?? null) : null;
      };
      const unknownFn: ValueFunction | null = unknown ? await tools.bind(unknown, textPiece(column)) : null;
      return (value, row, attempt) => {
        if (value === null) return null;
        const objects = parseSerialized(value, column);
        for (const object of objects) {
          const label = object.get('model') as string;
          const fields = object.get('fields') as JsonObject;
          const rules = rulesFor(label.toLowerCase());
          if (rules) {
            const pk = rules.applyJson(fields, object.get('pk'));
            if (pk !== undefined) object.set('pk', pk);
            continue;
          }
          if (!unknownFn) {
            throw new UsageError(
              `Anonymising ${column.qualified} with djangoSerialized(): it holds objects of model ${label}, which has no table here.`,
              {
                hint: `Name its table with djangoSerialized({ models: { '${label}': 'schema.table' } }), or treat such objects as text with djangoSerialized({ unknown: scrub() }).`,
              },
            );
          }
          mapTextLeaves(fields, (text) => unknownFn(text, row, attempt));
        }
        return formatJson(objects);
      };
    },
  };
}

type SerializedObject = Map<string, JsonValue>;

function parseSerialized(value: string, column: AnonymiseColumn): SerializedObject[] {
  const refuse = (what: string): never => {
    throw new UsageError(
      `Anonymising ${column.qualified} with djangoSerialized(): a value ${what}, not Django serializer JSON ([{"model": …, "pk": …, "fields": {…}}]).`,
      {
        hint: 'django-reversion stores JSON unless a model is registered with format="xml" or "yaml"; give this column another rule (scrub(), or exclude those rows).',
      },
    );
  };
  let parsed: ReturnType<typeof parseJson>;
  try {
    parsed = parseJson(value);
  } catch {
    return refuse('is not JSON');
  }
  if (!Array.isArray(parsed)) return refuse('is not a list');
  for (const object of parsed) {
    if (
      !(object instanceof Map) ||
      typeof object.get('model') !== 'string' ||
      !(object.get('fields') instanceof Map)
    )
      refuse('holds an item without "model" and "fields"');
  }
  return parsed as SerializedObject[];
}
