import { pluralize, underscore } from 'inflection';
import {
  type ColumnInfo,
  qualifiedName,
  quoteIdent,
  quoteQualified,
  type SchemaModel,
  type TableInfo,
} from '../schema/schema-model.js';
import type { Queryable } from '../source/queryable.js';
import { didYouMean } from './did-you-mean.js';
import type { RelationsConfig, VirtualRelation, VirtualTarget } from './virtual-relation.js';

/** Relations found by convention, and problems with the config's overrides of them. */
export interface DetectedRelations {
  readonly relations: readonly VirtualRelation[];
  readonly problems: readonly string[];
}

export const NOTHING_DETECTED: DetectedRelations = { relations: [], problems: [] };

/** Django's own models whose db_table is not `app_label_model`. */
const DJANGO_TABLES: Readonly<Record<string, string>> = {
  'admin.logentry': 'django_admin_log',
  'contenttypes.contenttype': 'django_content_type',
  'sessions.session': 'django_session',
  'sites.site': 'django_site',
  'flatpages.flatpage': 'django_flatpage',
  'redirects.redirect': 'django_redirect',
};

/** At most this many distinct `*_type` values are read per Rails polymorphic column. */
const RAILS_TYPES_READ = 1000;

/**
 * Finds the relations a framework keeps without declaring them, reading only the catalog model,
 * django_content_type and the distinct `*_type` values of Rails polymorphic columns:
 * - Django's GenericForeignKey: a column with a declared key to django_content_type (`content_type_id`,
 *   or `<prefix>content_type_id`) next to `object_id` or `object_pk` (with the same prefix). Each
 *   content type is resolved to its table (`app_label_model`, Django's own names, or
 *   `relations.contentTypes`) and that table's primary key.
 * - Rails polymorphic associations (when ar_internal_metadata exists): `<name>_type` and
 *   `<name>_id` with no declared key on `<name>_id`; each class name is resolved to its table by
 *   Rails' naming rules (`Admin::User` → admin_users, else users) or `relations.railsTypes`. A pair
 *   whose values name no table at all is not taken for one.
 */
export async function detectRelations(
  source: Queryable,
  model: SchemaModel,
  config: RelationsConfig | undefined,
): Promise<DetectedRelations> {
  const tables = model.tables.filter((table) => table.partitionRoot === null);
  const byName = new Map(tables.map((table) => [qualifiedName(table), table]));
  const problems: string[] = [];
  const override = (key: string, value: string, where: string): TableInfo | undefined => {
    const table = byName.get(value);
    if (!table)
      problems.push(`relations.${where}.${key}: no table ${value}${didYouMean(value, [...byName.keys()])}`);
    return table;
  };
  const relations: VirtualRelation[] = [];
  if (config?.detect?.django !== false) {
    relations.push(...(await djangoRelations(source, tables, config?.contentTypes ?? {}, override)));
  }
  if (config?.detect?.rails !== false && tables.some((table) => table.name === 'ar_internal_metadata')) {
    relations.push(...(await railsRelations(source, tables, config?.railsTypes ?? {}, override)));
  }
  return { relations, problems };
}

type Override = (key: string, value: string, where: string) => TableInfo | undefined;

/** A table's single-column primary key, which a generic key can point at. */
function singleKey(table: TableInfo): ColumnInfo | null {
  const columns = table.primaryKey?.columns ?? [];
  return columns.length === 1 ? (table.columns.find((c) => c.name === columns[0]) ?? null) : null;
}

function targetsOf(mapped: ReadonlyMap<string, TableInfo | null>): {
  targets: VirtualTarget[];
  unmapped: string[];
} {
  const byTable = new Map<TableInfo, string[]>();
  const unmapped: string[] = [];
  for (const [value, table] of mapped) {
    if (!table) {
      unmapped.push(value);
      continue;
    }
    byTable.set(table, [...(byTable.get(table) ?? []), value]);
  }
  const targets = [...byTable].map(([parent, values]) => ({
    parent,
    columns: [singleKey(parent) as ColumnInfo],
    values,
  }));
  return { targets, unmapped };
}

async function djangoRelations(
  source: Queryable,
  tables: readonly TableInfo[],
  overrides: Readonly<Record<string, string>>,
  override: Override,
): Promise<VirtualRelation[]> {
  const contentTypes = tables.find(
    (table) => table.name === 'django_content_type' && table.columns.some((c) => c.name === 'app_label'),
  );
  if (!contentTypes) return [];
  const rows = await source.query<{ id: string; app_label: string; model: string }>(
    `SELECT id::text AS id, app_label, model FROM ${quoteQualified(contentTypes)} ORDER BY id`,
  );
  const inSchema = new Map(
    tables.filter((table) => table.schema === contentTypes.schema).map((table) => [table.name, table]),
  );
  const overridden = new Map(
    Object.entries(overrides).map(([label, table]) => [label, override(label, table, 'contentTypes')]),
  );
  // Content type id → its table (null: no table, or none a generic key can point at).
  const mapped = new Map<string, TableInfo | null>();
  const labels = new Map<string, string>();
  for (const row of rows) {
    const label = `${row.app_label}.${row.model}`;
    labels.set(row.id, label);
    const table =
      overridden.get(label) ?? inSchema.get(DJANGO_TABLES[label] ?? `${row.app_label}_${row.model}`) ?? null;
    mapped.set(row.id, table && singleKey(table) ? table : null);
  }
  const relations: VirtualRelation[] = [];
  for (const table of tables) {
    for (const foreignKey of table.foreignKeys) {
      const [column] = foreignKey.columns;
      if (
        foreignKey.columns.length !== 1 ||
        !column?.endsWith('content_type_id') ||
        qualifiedName(foreignKey.referencedTable) !== qualifiedName(contentTypes)
      )
        continue;
      const prefix = column.slice(0, -'content_type_id'.length);
      const objectId = table.columns.find(
        (c) => c.name === `${prefix}object_id` || c.name === `${prefix}object_pk`,
      );
      const discriminator = table.columns.find((c) => c.name === column);
      if (!objectId || !discriminator) continue;
      const { targets, unmapped } = targetsOf(mapped);
      relations.push({
        name: `${qualifiedName(table)}.${objectId.name}`,
        origin: 'django',
        child: table,
        parts: [{ column: objectId, path: [], cast: null }],
        discriminator,
        targets,
        unmapped: unmapped.map((id) => `${id} (${labels.get(id)})`),
      });
    }
  }
  return relations;
}

/** Tables a Rails class name may be stored in: namespaced (`admin_users`), then plain (`users`). */
function railsTableNames(className: string): string[] {
  const parts = className.split('::').map((part) => underscore(part));
  const last = pluralize(parts[parts.length - 1] as string);
  return [...new Set([[...parts.slice(0, -1), last].join('_'), last])];
}

async function railsRelations(
  source: Queryable,
  tables: readonly TableInfo[],
  overrides: Readonly<Record<string, string>>,
  override: Override,
): Promise<VirtualRelation[]> {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const overridden = new Map(
    Object.entries(overrides).map(([name, table]) => [name, override(name, table, 'railsTypes')]),
  );
  const relations: VirtualRelation[] = [];
  for (const table of tables) {
    const declared = new Set(table.foreignKeys.flatMap((key) => key.columns));
    for (const type of table.columns) {
      if (!type.name.endsWith('_type') || !['text', 'varchar', 'bpchar'].includes(type.baseType)) continue;
      const id = table.columns.find((c) => c.name === `${type.name.slice(0, -'_type'.length)}_id`);
      if (!id || declared.has(id.name)) continue;
      const values = await source.query<{ value: string }>(
        `SELECT DISTINCT t.${quoteIdent(type.name)}::text AS value FROM ${quoteQualified(table)} t
         WHERE t.${quoteIdent(type.name)} IS NOT NULL ORDER BY 1 LIMIT ${RAILS_TYPES_READ}`,
      );
      const mapped = new Map<string, TableInfo | null>();
      for (const { value } of values) {
        const found =
          overridden.get(value) ??
          (/^[A-Z]\w*(::[A-Z]\w*)*$/.test(value)
            ? railsTableNames(value)
                .map((name) => byName.get(name))
                .find((candidate) => candidate && candidate.schema === table.schema)
            : undefined);
        mapped.set(value, found && singleKey(found) ? found : null);
      }
      const { targets, unmapped } = targetsOf(mapped);
      // Values that name no table at all: a pair of columns that only looks polymorphic.
      if (targets.length === 0) continue;
      relations.push({
        name: `${qualifiedName(table)}.${id.name}`,
        origin: 'rails',
        child: table,
        parts: [{ column: id, path: [], cast: null }],
        discriminator: type,
        targets,
        unmapped,
      });
    }
  }
  return relations;
}

/**
 * Values of a configured discriminator that its `to` does not map, one problem per value with a
 * did-you-mean against the mapped ones: such rows would point nowhere anyone can check.
 */
export async function unmappedDiscriminatorValues(
  source: Queryable,
  relations: readonly VirtualRelation[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const relation of relations) {
    const { discriminator } = relation;
    if (relation.origin !== 'config' || !discriminator) continue;
    const mapped = relation.targets.flatMap((target) => target.values ?? []);
    const keySet = relation.parts
      .map((part) => `t.${quoteIdent(part.column.name)} IS NOT NULL`)
      .join(' AND ');
    const rows = await source.query<{ value: string; n: string }>(
      `SELECT t.${quoteIdent(discriminator.name)}::text AS value, count(*)::text AS n
       FROM ${quoteQualified(relation.child)} t
       WHERE t.${quoteIdent(discriminator.name)} IS NOT NULL AND ${keySet}
       GROUP BY 1 ORDER BY 1 LIMIT ${RAILS_TYPES_READ}`,
    );
    for (const { value, n } of rows) {
      if (mapped.includes(value)) continue;
      problems.push(
        `relations.virtual (${relation.name}): ${qualifiedName(relation.child)}.${discriminator.name} holds ${JSON.stringify(value)} in ${n} row${n === '1' ? '' : 's'}, which "to" maps to no table${didYouMean(value, mapped)}; add it to "to"`,
      );
    }
  }
  return problems;
}
