import { pipeline } from 'node:stream/promises';
import type { Faker } from '@faker-js/faker';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadFakerLocale } from '../../strategies/anonymisers/faker-locales.js';
import {
  type FactoryStrategy,
  type FactoryValue,
  isFactoryStrategy,
} from '../../strategies/factory-strategy.js';
import type { DevsnapConfig, TableConfig } from '../config/devsnap-config.js';
import { didYouMean } from '../config/did-you-mean.js';
import { copyTextField } from '../copy/copy-text-format.js';
import { DevsnapError, errorMessage, UsageError } from '../errors.js';
import type { Manifest, ManifestColumn, ManifestTable } from '../manifest.js';
import type { ProgressReporter } from '../progress.js';
import { qualifiedName, quoteIdent, quoteQualified } from '../schema/schema-model.js';
import type { TextValue } from '../source/source.js';

/** Factories by `schema.table`. */
export type TableFactories = ReadonlyMap<string, readonly FactoryStrategy[]>;

/**
 * The factory strategies of a config, by the snapshot table they fill. Names resolve like the
 * export's (`schema.table`, or a bare name when unique); an unknown name is an error.
 */
export function factoriesFor(config: DevsnapConfig | undefined, manifest: Manifest): TableFactories {
  const factories = new Map<string, FactoryStrategy[]>();
  const names = manifest.tables.map(qualifiedName);
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config?.tables ?? {})) {
    const strategies = (Array.isArray(value) ? value : (value as TableConfig).strategies).filter(
      isFactoryStrategy,
    );
    if (strategies.length === 0) continue;
    const matches = names.filter((name) => name === key || (!key.includes('.') && name.endsWith(`.${key}`)));
    if (matches.length !== 1) {
      problems.push(
        `tables.${key}: ${matches.length ? 'ambiguous' : 'not in this snapshot'}${didYouMean(key, names)}`,
      );
      continue;
    }
    factories.set(matches[0]!, strategies);
  }
  if (problems.length > 0) {
    throw new UsageError(`The config's factories do not fit the snapshot:\n  ${problems.join('\n  ')}`);
  }
  return factories;
}

/** Most parent keys a factory draws its foreign keys from (first ones by key order). */
const PARENT_KEY_POOL = 10_000;

/**
 * Generates the factory rows of each table after the sampled rows are loaded and before keys and
 * foreign keys are created, so every constraint is checked over both. Parents are filled before
 * children, so generated children may point at generated parents too. Returns rows added per table.
 */
export async function fillFactories(
  client: pg.Client,
  manifest: Manifest,
  factories: TableFactories,
  reporter: ProgressReporter,
): Promise<Map<string, number>> {
  const added = new Map<string, number>();
  for (const table of parentsFirst(manifest.tables)) {
    const name = qualifiedName(table);
    for (const strategy of factories.get(name) ?? []) {
      reporter.report({ type: 'phase', phase: 'factory', detail: `${name}: ${strategy.factory.count} rows` });
      const rows = await generateRows(client, manifest, table, strategy);
      await copyRows(client, table, rows);
      added.set(name, (added.get(name) ?? 0) + rows.values.length);
    }
  }
  return added;
}

interface GeneratedRows {
  readonly columns: readonly string[];
  readonly values: readonly TextValue[][];
}

async function generateRows(
  client: pg.Client,
  manifest: Manifest,
  table: ManifestTable,
  strategy: FactoryStrategy,
): Promise<GeneratedRows> {
  const name = qualifiedName(table);
  const { fields, count, seed } = strategy.factory;
  const parentPicks = [];
  const covered = new Set(Object.keys(fields));
  for (const foreignKey of table.foreignKeys) {
    if (foreignKey.columns.every((column) => covered.has(column))) continue;
    const parent = referencedTable(manifest.tables, foreignKey);
    const keys = parent ? await parentKeys(client, parent, foreignKey.referencedColumns) : [];
    const nullable = foreignKey.columns.every((column) => columnOf(table, column)?.nullable);
    if (keys.length === 0 && !nullable) {
      throw new DevsnapError(
        `Cannot generate rows for ${name}: foreign key ${foreignKey.name} needs a row in ${qualifiedName(foreignKey.referencedTable)}, which has none.`,
        {
          hint: `Export some rows of the parent table, or give the factory a field for ${foreignKey.columns.join(', ')}.`,
        },
      );
    }
    parentPicks.push({ columns: foreignKey.columns, keys });
    for (const column of foreignKey.columns) covered.add(column);
  }
  const missing = table.columns.filter((c) => !covered.has(c.name) && !c.nullable && !c.hasDefault);
  if (missing.length > 0) {
    throw new DevsnapError(
      `The factory for ${name} has no value for ${missing.map((c) => c.name).join(', ')} (NOT NULL, no default).`,
      { hint: 'Add a field generator for each of them.' },
    );
  }
  const columns = [...covered];
  // faker loads here, when a config has a factory, and only its English locale.
  const english = await loadFakerLocale('en');
  const FakerClass = english.constructor as new (options: {
    locale: Faker['rawDefinitions'];
    seed: number;
  }) => Faker;
  const faker = new FakerClass({ locale: english.rawDefinitions, seed: seedFor(seed, name) });
  const values: TextValue[][] = [];
  for (let index = 0; index < count; index++) {
    const row = new Map<string, TextValue>();
    for (const [column, generate] of Object.entries(fields)) {
      row.set(column, toText(generate(faker, { index, table: name }), columnOf(table, column)));
    }
    for (const pick of parentPicks) {
      const key =
        pick.keys.length > 0 ? pick.keys[faker.number.int({ max: pick.keys.length - 1 })] : undefined;
      pick.columns.forEach((column, i) => {
        if (!row.has(column)) row.set(column, key?.[i] ?? null);
      });
    }
    values.push(columns.map((column) => row.get(column) ?? null));
  }
  return { columns, values };
}

async function parentKeys(
  client: pg.Client,
  parent: ManifestTable,
  columns: readonly string[],
): Promise<TextValue[][]> {
  const list = columns.map(quoteIdent).join(', ');
  const { rows } = await client.query<{ key: TextValue[] }>({
    text: `SELECT ARRAY[${columns.map((c) => `${quoteIdent(c)}::text`).join(', ')}] AS key FROM ${quoteQualified(parent)}
           WHERE ${columns.map((c) => `${quoteIdent(c)} IS NOT NULL`).join(' AND ')}
           ORDER BY ${list} LIMIT ${PARENT_KEY_POOL}`,
  });
  return rows.map((row) => row.key);
}

async function copyRows(client: pg.Client, table: ManifestTable, rows: GeneratedRows): Promise<void> {
  if (rows.values.length === 0) return;
  const text = rows.values.map((row) => `${row.map(copyTextField).join('\t')}\n`).join('');
  try {
    await pipeline(
      [Buffer.from(text)],
      client.query(
        copyFrom(`COPY ${quoteQualified(table)} (${rows.columns.map(quoteIdent).join(', ')}) FROM STDIN`),
      ),
    );
  } catch (error) {
    throw new DevsnapError(
      `Generated rows for ${qualifiedName(table)} were refused: ${errorMessage(error)}`,
      { cause: error, hint: 'Check the factory field generators against the column types.' },
    );
  }
}

/** A value from a generator, in PostgreSQL text input form for its column. */
function toText(value: FactoryValue | undefined, column: ManifestColumn | undefined): TextValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value) && column?.isArray) return arrayLiteral(value);
  return JSON.stringify(value);
}

function arrayLiteral(values: readonly unknown[]): string {
  const items = values.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (Array.isArray(item)) return arrayLiteral(item);
    return `"${String(item).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}

function columnOf(table: ManifestTable, name: string): ManifestColumn | undefined {
  return table.columns.find((column) => column.name === name);
}

/** The snapshot table a foreign key points at, if the snapshot has it. */
function referencedTable(
  tables: readonly ManifestTable[],
  foreignKey: ManifestTable['foreignKeys'][number],
): ManifestTable | undefined {
  const { schema, name } = foreignKey.referencedTable;
  return tables.find((table) => table.schema === schema && table.name === name);
}

function seedFor(seed: number, table: string): number {
  let hash = seed | 0;
  for (const char of table) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash >>> 0;
}

function parentsFirst(tables: readonly ManifestTable[]): ManifestTable[] {
  const ordered: ManifestTable[] = [];
  const visiting = new Set<ManifestTable>();
  const visit = (table: ManifestTable) => {
    if (ordered.includes(table) || visiting.has(table)) return;
    visiting.add(table);
    for (const foreignKey of table.foreignKeys) {
      const parent = referencedTable(tables, foreignKey);
      if (parent && parent !== table) visit(parent);
    }
    ordered.push(table);
  };
  for (const table of tables) visit(table);
  return ordered;
}
