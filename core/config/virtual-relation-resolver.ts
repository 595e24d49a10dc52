import type { KeyReference } from '../anonymise/anonymise-config.js';
import { type ColumnInfo, qualifiedName, type TableInfo } from '../schema/schema-model.js';
import { didYouMean } from './did-you-mean.js';
import type { PolicyTarget } from './foreign-key-policies.js';
import type { KeyPart, VirtualRelation, VirtualRelationConfig, VirtualTarget } from './virtual-relation.js';

const IDENTIFIER = '(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)';
const PATH_STEP = String.raw`\s*(->>?)\s*('(?:[^']|'')*'|\d+)`;
const PART = new RegExp(
  String.raw`^\s*(${IDENTIFIER})((?:${PATH_STEP})*)\s*(?:::\s*(integer|int|int4|int8|bigint))?\s*$`,
);

const unquote = (identifier: string) =>
  identifier.startsWith('"') ? identifier.slice(1, -1).replaceAll('""', '"') : identifier;

/** Splits `a, b->>'x,y'` on the commas outside quotes. */
function splitParts(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === ',') {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts;
}

/** `schema.table(…)` → the table and the text between the parentheses (null without them). */
function splitReference(text: string): { table: string; inner: string | null } {
  const match = /^\s*([^()]+?)\s*(?:\((.*)\))?\s*$/s.exec(text);
  return { table: match?.[1] ?? text, inner: match?.[2] ?? null };
}

/**
 * Resolves the config's virtual relations against the schema: every table, column and JSON path
 * checked, each problem pushed with a did-you-mean (`relations.virtual[0].from: no column
 * post_rf in public.comment (did you mean "post_ref"?)`).
 */
export function resolveVirtualRelations(
  configs: readonly VirtualRelationConfig[],
  tables: ReadonlyMap<string, TableInfo>,
  problems: string[],
): VirtualRelation[] {
  const names = [...tables.keys()];
  const relations: VirtualRelation[] = [];
  configs.forEach((config, index) => {
    const where = `relations.virtual[${index}]`;
    const before = problems.length;
    const findTable = (name: string, at: string): TableInfo | undefined => {
      const table = tables.get(name) ?? [...tables.values()].find((t) => t.name === name);
      if (!table) problems.push(`${at}: no table ${name}${didYouMean(name, names)}`);
      return table;
    };
    const findColumn = (table: TableInfo, name: string, at: string): ColumnInfo | undefined => {
      const column = table.columns.find((c) => c.name === name);
      if (!column) {
        problems.push(
          `${at}: no column ${name} in ${qualifiedName(table)}${didYouMean(
            name,
            table.columns.map((c) => c.name),
          )}`,
        );
      }
      return column;
    };

    const from = splitReference(config.from);
    const child = findTable(from.table, `${where}.from`);
    if (from.inner === null)
      problems.push(`${where}.from: name the key's columns, e.g. ${from.table}(post_id)`);
    const parts: KeyPart[] = [];
    for (const text of child && from.inner !== null ? splitParts(from.inner) : []) {
      const match = PART.exec(text);
      if (!match) {
        problems.push(
          `${where}.from: cannot read "${text.trim()}"; write a column, a JSON path such as payload->>'user_id', or column::integer`,
        );
        continue;
      }
      const column = findColumn(child as TableInfo, unquote(match[1] as string), `${where}.from`);
      const steps = [...(match[2] ?? '').matchAll(new RegExp(PATH_STEP, 'g'))];
      if (steps.length > 0 && steps[steps.length - 1]?.[1] !== '->>') {
        problems.push(
          `${where}.from: end the JSON path in "${text.trim()}" with ->> so the key is read as text`,
        );
      }
      if (steps.length > 0 && column && !['json', 'jsonb'].includes(column.baseType)) {
        problems.push(
          `${where}.from: ${column.name} is ${column.dataType}, not json or jsonb; a path needs JSON`,
        );
      }
      const path = steps.map((step) => {
        const key = step[2] as string;
        return key.startsWith("'") ? key.slice(1, -1).replaceAll("''", "'") : Number(key);
      });
      if (column) parts.push({ column, path, cast: match[3] ? 'integer' : null });
    }

    const parent = (text: string, at: string): Omit<VirtualTarget, 'values'> | undefined => {
      const reference = splitReference(text);
      const table = findTable(reference.table, at);
      if (!table) return undefined;
      const columnNames =
        reference.inner === null
          ? (table.primaryKey?.columns ?? [])
          : splitParts(reference.inner).map((name) => unquote(name.trim()));
      if (columnNames.length === 0) {
        problems.push(
          `${at}: ${qualifiedName(table)} has no primary key; name the columns, e.g. ${reference.table}(id)`,
        );
        return undefined;
      }
      const columns = columnNames.map((name) => findColumn(table, name, at));
      if (columns.some((column) => column === undefined)) return undefined;
      if (columns.length !== parts.length && problems.length === before) {
        problems.push(
          `${at}: ${columns.length} column${columns.length === 1 ? '' : 's'} in ${qualifiedName(table)} for a key of ${parts.length}`,
        );
      }
      return { parent: table, columns: columns as ColumnInfo[] };
    };

    let discriminator: ColumnInfo | null = null;
    const targets: VirtualTarget[] = [];
    if ('discriminator' in config) {
      discriminator = (child && findColumn(child, config.discriminator, `${where}.discriminator`)) ?? null;
      const byParent = new Map<TableInfo, { target: Omit<VirtualTarget, 'values'>; values: string[] }>();
      for (const [value, text] of Object.entries(config.to)) {
        const target = parent(text, `${where}.to.${value}`);
        if (!target) continue;
        const entry = byParent.get(target.parent) ?? { target, values: [] };
        entry.values.push(value);
        byParent.set(target.parent, entry);
      }
      for (const { target, values } of byParent.values()) targets.push({ ...target, values });
    } else {
      const target = parent(config.to, `${where}.to`);
      if (target) targets.push({ ...target, values: null });
    }
    if (problems.length > before || !child) return;
    relations.push({
      name: config.name ?? `${qualifiedName(child)}(${(from.inner ?? '').replace(/\s+/g, ' ').trim()})`,
      origin: 'config',
      child,
      parts,
      discriminator,
      targets,
      unmapped: [],
    });
  });
  const seen = new Set<string>();
  for (const relation of relations) {
    if (seen.has(relation.name)) {
      problems.push(
        `relations.virtual: two relations are named ${relation.name}; give one a name of its own`,
      );
    }
    seen.add(relation.name);
  }
  return relations;
}

/** A virtual relation as the target of a policy, by its name or its key's columns. */
export function relationPolicyTarget(relation: VirtualRelation): PolicyTarget {
  const columns = relation.parts.map((part) => part.column.name);
  const required = relation.parts.filter((part) => !part.column.nullable).map((part) => part.column.name);
  const parents = relation.targets.map((target) => qualifiedName(target.parent)).join(', ');
  return {
    id: relation.name,
    name: relation.name,
    table: qualifiedName(relation.child),
    columns,
    logical: `virtual:${relation.name}`,
    describe: `${relation.name} (${columns.join(', ')} → ${parents}, ${relation.origin === 'config' ? 'virtual' : `detected ${relation.origin}`})`,
    nullifyProblem: relation.parts.some((part) => part.path.length > 0)
      ? 'nullify cannot set a key inside JSON to NULL; use restrict or include-parents'
      : required.length > 0
        ? `nullify needs nullable columns, but ${required.join(', ')} ${required.length === 1 ? 'is' : 'are'} NOT NULL; use restrict or include-parents`
        : null,
  };
}

/**
 * The column-to-column references of plain virtual relations, for anonymisation: a column that
 * holds another's values follows that column's rule, so joins still match. Keys inside JSON and
 * polymorphic keys (whose parent changes row by row) are left out.
 */
export function virtualKeyReferences(relations: readonly VirtualRelation[]): KeyReference[] {
  return relations.flatMap((relation) =>
    relation.discriminator
      ? []
      : relation.targets.flatMap((target) =>
          relation.parts.flatMap((part, i) => {
            const referenced = target.columns[i];
            return part.path.length > 0 || !referenced
              ? []
              : [
                  {
                    table: relation.child,
                    column: part.column.name,
                    referencedTable: target.parent,
                    referencedColumn: referenced.name,
                    name: relation.name,
                  },
                ];
          }),
        ),
  );
}
