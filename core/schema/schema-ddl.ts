import { CATALOG_SESSION_SETTINGS } from './catalog-queries.js';
import {
  type CheckConstraint,
  type ColumnInfo,
  type DomainInfo,
  type EnumInfo,
  type QualifiedName,
  quoteIdent,
  quoteLiteral,
  quoteQualified,
  type SchemaModel,
  type SequenceInfo,
  type TableInfo,
} from './schema-model.js';

/** The two scripts an import runs around the data load. */
export interface SchemaDdl {
  /** Schemas, types, sequences and tables (with checks): everything COPY needs to exist. */
  readonly preData: string;
  /** Keys, indexes and foreign keys: cheaper to build once the rows are in, and FKs need them. */
  readonly postData: string;
}

/**
 * Writes the DDL that rebuilds the model's captured objects in an empty database. Every name is
 * qualified and the scripts run with an empty search_path, so they mean the same on any server.
 * Expressions calling functions devsnap does not recreate are left out, with a comment saying so.
 */
export function writeSchemaDdl(model: SchemaModel): SchemaDdl {
  const tables = tablesInCreationOrder(model.tables);
  const freeOrSerial = model.sequences.filter((sequence) => !sequence.identity);
  const domains = domainsInCreationOrder(model.domains);

  const preData = [
    header('pre-data: schemas, types, sequences and tables, created before the data is loaded'),
    ...model.schemas.map((schema) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};`),
    ...model.enums.map(createEnum),
    // Before domains and tables: a default may call nextval('…'::regclass), resolved on creation.
    ...freeOrSerial.map(
      (sequence) => `CREATE SEQUENCE ${quoteQualified(sequence)}\n  ${sequenceOptions(sequence)};`,
    ),
    ...domains.map(createDomain),
    ...tables.map((table) => createTable(table, model)),
    ...freeOrSerial.flatMap((sequence) =>
      sequence.ownedBy
        ? [
            `ALTER SEQUENCE ${quoteQualified(sequence)} OWNED BY ${quoteQualified(sequence.ownedBy)}.${quoteIdent(sequence.ownedBy.column)};`,
          ]
        : [],
    ),
  ];

  const postData = [
    header('post-data: keys, indexes and foreign keys, created after the data is loaded'),
    ...tables.flatMap((table) =>
      [...(table.primaryKey ? [table.primaryKey] : []), ...table.uniqueConstraints].map(
        (key) => `${alterTable(table)} ADD CONSTRAINT ${quoteIdent(key.name)} ${key.definition};`,
      ),
    ),
    // NOT VALID checks go in after the rows: the source's existing rows may not satisfy them.
    ...tables.flatMap((table) =>
      table.checkConstraints
        .filter((check) => isNotValid(check) && !check.requiredFunctions?.length)
        .map((check) => `${alterTable(table)} ADD CONSTRAINT ${quoteIdent(check.name)} ${check.definition};`),
    ),
    ...domains.flatMap((domain) =>
      domain.checks
        .filter((check) => isNotValid(check) && !check.requiredFunctions?.length)
        .map(
          (check) =>
            `ALTER DOMAIN ${quoteQualified(domain)} ADD CONSTRAINT ${quoteIdent(check.name)} ${check.definition};`,
        ),
    ),
    ...tables.flatMap((table) =>
      table.indexes.map((index) =>
        index.requiredFunctions?.length
          ? omitted(`index ${index.name} on ${quoteQualified(table)}`, index.requiredFunctions)
          : `${indexStatement(index.definition)};`,
      ),
    ),
    // Last: every referenced key and unique index exists by now.
    ...tables.flatMap((table) =>
      table.foreignKeys.map(
        (foreignKey) =>
          `${alterTable(table)} ADD CONSTRAINT ${quoteIdent(foreignKey.name)} ${foreignKey.definition};`,
      ),
    ),
  ];

  return Object.freeze({ preData: script(preData), postData: script(postData) });
}

/**
 * Drops the model's tables, free sequences, domains and enums if they exist, for the
 * `drop-tables` reset. CASCADE removes what depends on them (views, foreign keys from other
 * tables, columns of other tables using the types), which is what a reset asks for.
 */
export function writeDropDdl(model: SchemaModel): string {
  const drop = (what: string) => (object: QualifiedName) =>
    `DROP ${what} IF EXISTS ${quoteQualified(object)} CASCADE;`;
  return script([
    '-- devsnap schema reset: drops what the snapshot recreates.\nSET client_min_messages = warning;',
    // Partitions go with their parents; listing them too catches a leftover detached one.
    ...tablesInCreationOrder(model.tables).map(drop('TABLE')),
    ...model.sequences.filter((sequence) => !sequence.identity).map(drop('SEQUENCE')),
    ...domainsInCreationOrder(model.domains).reverse().map(drop('DOMAIN')),
    ...model.enums.map(drop('TYPE')),
  ]);
}

function header(what: string): string {
  const settings = Object.entries(CATALOG_SESSION_SETTINGS)
    .filter(([name]) => name !== 'search_path')
    .map(([name, value]) => `SET ${name} = ${quoteLiteral(value)};`);
  return [
    `-- devsnap schema ${what}.`,
    "SET client_encoding = 'UTF8';",
    'SET standard_conforming_strings = on;',
    'SET check_function_bodies = false;',
    'SET client_min_messages = warning;',
    ...settings,
    // Empty, so every name below must be (and is) schema-qualified.
    "SELECT pg_catalog.set_config('search_path', '', false);",
  ].join('\n');
}

function script(statements: readonly string[]): string {
  return `${statements.join('\n\n')}\n`;
}

function omitted(what: string, functions: readonly string[]): string {
  return `-- Left out ${what}: it calls ${functions.join(', ')}, which devsnap does not recreate.`;
}

function createEnum(type: EnumInfo): string {
  return `CREATE TYPE ${quoteQualified(type)} AS ENUM (${type.labels.map(quoteLiteral).join(', ')});`;
}

function sequenceOptions(sequence: SequenceInfo, withType = true): string {
  return [
    ...(withType ? [`AS ${sequence.dataType}`] : []),
    `START WITH ${sequence.start}`,
    `INCREMENT BY ${sequence.increment}`,
    `MINVALUE ${sequence.min}`,
    `MAXVALUE ${sequence.max}`,
    `CACHE ${sequence.cache}`,
    sequence.cycle ? 'CYCLE' : 'NO CYCLE',
  ].join(' ');
}

function createDomain(domain: DomainInfo): string {
  const comments: string[] = [];
  let statement = `CREATE DOMAIN ${quoteQualified(domain)} AS ${domain.baseType}`;
  if (domain.collation) statement += ` COLLATE ${domain.collation}`;
  if (domain.defaultExpression !== null) {
    if (domain.requiredFunctions?.length) {
      comments.push(omitted(`the default of domain ${quoteQualified(domain)}`, domain.requiredFunctions));
    } else {
      statement += ` DEFAULT ${domain.defaultExpression}`;
    }
  }
  if (domain.notNull) statement += ' NOT NULL';
  for (const check of domain.checks) {
    if (check.requiredFunctions?.length) {
      comments.push(
        omitted(`check ${check.name} of domain ${quoteQualified(domain)}`, check.requiredFunctions),
      );
    } else if (!isNotValid(check)) {
      statement += `\n  CONSTRAINT ${quoteIdent(check.name)} ${check.definition}`;
    }
  }
  return [...comments, `${statement};`].join('\n');
}

function createTable(table: TableInfo, model: SchemaModel): string {
  const comments: string[] = [];
  const parent = table.partitionOf ? findTable(model, table.partitionOf) : undefined;
  const parentColumns = new Map(parent?.columns.map((column) => [column.name, column]));
  const elements: string[] = [];
  const dropDefaults: string[] = [];

  for (const column of table.columns) {
    const expression = usableExpression(column);
    if (expression === null && column.requiredFunctions?.length) {
      const what = column.generatedExpression === null ? 'default' : 'generation expression';
      comments.push(
        omitted(
          `the ${what} of ${quoteQualified(table)}.${quoteIdent(column.name)}`,
          column.requiredFunctions,
        ),
      );
    }
    if (!parent) {
      elements.push(columnDefinition(table, column, expression, model));
      continue;
    }
    // A partition gets its parent's columns, defaults and NOT NULLs; only differences are written.
    const inherited = parentColumns.get(column.name);
    const inheritedDefault = inherited ? usableExpression(inherited) : null;
    const options: string[] = [];
    if (column.generatedExpression === null && expression !== inheritedDefault) {
      if (expression === null) {
        dropDefaults.push(`${alterTable(table)} ALTER COLUMN ${quoteIdent(column.name)} DROP DEFAULT;`);
      } else {
        options.push(`DEFAULT ${expression}`);
      }
    }
    if (!column.nullable && inherited?.nullable !== false) options.push('NOT NULL');
    if (options.length) elements.push(`${quoteIdent(column.name)} WITH OPTIONS ${options.join(' ')}`);
  }

  for (const check of table.checkConstraints) {
    if (check.requiredFunctions?.length) {
      comments.push(omitted(`check ${check.name} on ${quoteQualified(table)}`, check.requiredFunctions));
    } else if (!isNotValid(check)) {
      elements.push(`CONSTRAINT ${quoteIdent(check.name)} ${check.definition}`);
    }
  }

  const body =
    elements.length || !parent ? ` (\n${elements.map((element) => `  ${element}`).join(',\n')}\n)` : '';
  const create = `CREATE ${table.unlogged ? 'UNLOGGED ' : ''}TABLE ${quoteQualified(table)}`;
  const partitionOf = table.partitionOf
    ? ` PARTITION OF ${quoteQualified(table.partitionOf)}${body} ${table.partitionBound ?? 'DEFAULT'}`
    : body;
  const partitionBy = table.partitionKey ? ` PARTITION BY ${table.partitionKey}` : '';
  return [...comments, `${create}${partitionOf}${partitionBy};`, ...dropDefaults].join('\n');
}

function columnDefinition(
  table: TableInfo,
  column: ColumnInfo,
  expression: string | null,
  model: SchemaModel,
): string {
  let definition = `${quoteIdent(column.name)} ${column.dataType}`;
  if (column.collation) definition += ` COLLATE ${column.collation}`;
  if (column.identity) {
    const sequence = model.sequences.find(
      (candidate) =>
        candidate.identity &&
        candidate.ownedBy?.schema === table.schema &&
        candidate.ownedBy.name === table.name &&
        candidate.ownedBy.column === column.name,
    );
    const how = column.identity === 'always' ? 'ALWAYS' : 'BY DEFAULT';
    // The sequence takes the column's type; naming it keeps it the same as on the source.
    const options = sequence
      ? ` (SEQUENCE NAME ${quoteQualified(sequence)} ${sequenceOptions(sequence, false)})`
      : '';
    definition += ` GENERATED ${how} AS IDENTITY${options}`;
  } else if (column.generatedExpression !== null) {
    if (expression !== null) definition += ` GENERATED ALWAYS AS (${expression}) STORED`;
  } else if (expression !== null) {
    definition += ` DEFAULT ${expression}`;
  }
  if (!column.nullable) definition += ' NOT NULL';
  return definition;
}

/** The column's default or generation expression, or null when it has none the DDL can use. */
function usableExpression(column: ColumnInfo): string | null {
  if (column.requiredFunctions?.length) return null;
  return column.generatedExpression ?? column.defaultExpression;
}

function isNotValid(check: CheckConstraint): boolean {
  return check.definition.endsWith(' NOT VALID');
}

/** ONLY keeps a key on an inheritance parent off its children; a partitioned table needs it to recurse. */
function alterTable(table: TableInfo): string {
  return `ALTER TABLE ${table.kind === 'partitioned' ? '' : 'ONLY '}${quoteQualified(table)}`;
}

/**
 * pg_get_indexdef() prints `ON ONLY` for a partitioned table's index (pg_dump then attaches each
 * partition's index by hand); without ONLY, PostgreSQL creates and attaches them itself.
 */
function indexStatement(definition: string): string {
  const onOnly = /^CREATE (?:UNIQUE )?INDEX (?:"(?:[^"]|"")*"|\S+) ON ONLY /.exec(definition);
  return onOnly ? `${onOnly[0].slice(0, -'ONLY '.length)}${definition.slice(onOnly[0].length)}` : definition;
}

function findTable(model: SchemaModel, name: QualifiedName): TableInfo | undefined {
  return model.tables.find((table) => table.schema === name.schema && table.name === name.name);
}

/** Ordinary tables and partition roots by name, each followed (depth first) by its partitions. */
function tablesInCreationOrder(tables: readonly TableInfo[]): TableInfo[] {
  const key = (object: QualifiedName) => `${object.schema}\u0000${object.name}`;
  const known = new Set(tables.map(key));
  const childrenOf = new Map<string, TableInfo[]>();
  for (const table of tables) {
    if (table.partitionOf && known.has(key(table.partitionOf))) {
      const parent = key(table.partitionOf);
      childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), table]);
    }
  }
  const ordered: TableInfo[] = [];
  const visit = (table: TableInfo) => {
    ordered.push(table);
    for (const child of sortByName(childrenOf.get(key(table)) ?? [])) visit(child);
  };
  for (const table of sortByName(tables.filter((t) => !t.partitionOf || !known.has(key(t.partitionOf))))) {
    visit(table);
  }
  return ordered;
}

/** By name, except that a domain over another domain comes after it. */
function domainsInCreationOrder(domains: readonly DomainInfo[]): DomainInfo[] {
  const byName = new Map(domains.map((domain) => [quoteQualified(domain), domain]));
  const ordered: DomainInfo[] = [];
  const visited = new Set<DomainInfo>();
  const visit = (domain: DomainInfo) => {
    if (visited.has(domain)) return;
    visited.add(domain);
    const base = referencedType(domain.baseType);
    const baseDomain = base ? byName.get(quoteQualified(base)) : undefined;
    if (baseDomain) visit(baseDomain);
    ordered.push(domain);
  };
  for (const domain of sortByName(domains)) visit(domain);
  return ordered;
}

/**
 * The schema-qualified type a format_type() string names, ignoring any array brackets:
 * `public."my type"[]` → public / my type. Null for built-in types, which print unqualified.
 */
function referencedType(formatted: string): QualifiedName | null {
  const identifier = '("(?:[^"]|"")*"|[^".\\s[(]+)';
  const match = new RegExp(`^${identifier}\\.${identifier}`).exec(formatted);
  if (!match?.[1] || !match[2]) return null;
  const unquote = (text: string) => (text.startsWith('"') ? text.slice(1, -1).replaceAll('""', '"') : text);
  return { schema: unquote(match[1]), name: unquote(match[2]) };
}

function sortByName<T extends QualifiedName>(objects: readonly T[]): T[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...objects].sort((a, b) => compare(a.schema, b.schema) || compare(a.name, b.name));
}
