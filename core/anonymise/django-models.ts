import { qualifiedName, quoteQualified, type SchemaModel, type TableInfo } from '../schema/schema-model.js';
import type { Source } from '../source/source.js';

/** Tables of Django's contrib models that set their own db_table. */
const CONTRIB_TABLES: Readonly<Record<string, string>> = {
  'admin.logentry': 'django_admin_log',
  'contenttypes.contenttype': 'django_content_type',
  'flatpages.flatpage': 'django_flatpage',
  'redirects.redirect': 'django_redirect',
  'sessions.session': 'django_session',
  'sites.site': 'django_site',
};

/**
 * The table of a Django model label (`app_label.model`, lower case): the one configured for it,
 * else a contrib model's own table, else Django's default `<app_label>_<model>`. Bare table names
 * are looked up in `schema` first (where Django's tables are), then in any schema if unique.
 */
export function djangoModelTable(
  model: SchemaModel,
  label: string,
  schema: string,
  configured: Readonly<Record<string, string>> = {},
): TableInfo | undefined {
  const lower = label.toLowerCase();
  const named =
    Object.entries(configured).find(([key]) => key.toLowerCase() === lower)?.[1] ??
    CONTRIB_TABLES[lower] ??
    lower.replace('.', '_');
  return findTable(model, named, schema);
}

/** `schema.table`, or a bare name looked up in `schema` first, then in any schema if unique. */
export function findTable(model: SchemaModel, name: string, schema: string): TableInfo | undefined {
  const tables = model.tables.filter((table) => table.partitionRoot === null);
  if (name.includes('.')) return tables.find((table) => qualifiedName(table) === name);
  const named = tables.filter((table) => table.name === name);
  return named.find((table) => table.schema === schema) ?? (named.length === 1 ? named[0] : undefined);
}

/** Every model label (`app_label.model`) in the django_content_type table in `schema`. */
export async function readDjangoContentTypes(source: Source, schema: string): Promise<string[]> {
  const labels: string[] = [];
  const table = quoteQualified({ schema, name: 'django_content_type' });
  for await (const batch of source.streamRows(`SELECT app_label || '.' || model FROM ${table} ORDER BY 1`)) {
    for (const row of batch) if (row[0]) labels.push(row[0]);
  }
  return labels;
}
