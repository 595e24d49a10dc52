import { CATALOG_SESSION_SETTINGS } from './catalog-queries.js';
import { creationOrder, type OrderedObject, unavailableFunctions } from './creation-order.js';
import {
  alterTable,
  createCollation,
  createComment,
  createCompositeType,
  createExtensions,
  createPolicy,
  createRangeType,
  createRule,
  createTrigger,
  createView,
  enableRowSecurity,
} from './object-ddl.js';
import {
  type CheckConstraint,
  type ColumnInfo,
  type DomainInfo,
  type EnumInfo,
  type FunctionInfo,
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
  /**
   * Schemas, extensions, collations, types, sequences, functions and tables (with their
   * checks): everything COPY needs, each after what it depends on.
   */
  readonly preData: string;
  /**
   * Keys, indexes, views and materialized views (created empty), foreign keys, triggers, rules,
   * row-level security and comments, then the materialized views are refreshed: cheaper to
   * build once the rows are in, and triggers created now never fire during the load.
   */
  readonly postData: string;
}

/**
 * Writes the DDL that rebuilds the model's captured objects in an empty database. Every name is
 * qualified and the scripts run with an empty search_path, so they mean the same on any server.
 * Functions come before the tables whose defaults and checks call them; an expression calling a
 * function that cannot exist yet (one that needs a view) is left out, with a comment saying so.
 */
export function writeSchemaDdl(model: SchemaModel): SchemaDdl {
  const order = creationOrder(model);
  const context: DdlContext = {
    model,
    unavailable: unavailableFunctions(model, order.lateFunctions),
    unavailableAfterData: unavailableFunctions(model),
  };
  const tables = order.beforeData.flatMap((item) => (item.kind === 'table' ? [item.object] : []));
  const freeOrSerial = model.sequences.filter((sequence) => !sequence.identity);
  const domains = model.domains;
  const views = order.afterData.flatMap((item) => (item.kind === 'view' ? [item.object] : []));

  const preData = [
    header('pre-data: schemas, types, functions, sequences and tables, created before the data is loaded'),
    ...model.schemas.map((schema) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};`),
    ...createExtensions(model.extensions),
    ...model.collations.map(createCollation),
    ...model.enums.map(createEnum),
    // Before domains and tables: a default may call nextval('…'::regclass), resolved on creation.
    ...freeOrSerial.map(
      (sequence) => `CREATE SEQUENCE ${quoteQualified(sequence)}\n  ${sequenceOptions(sequence)};`,
    ),
    ...order.beforeData.map((item) => createOrdered(item, context)),
    ...freeOrSerial.flatMap((sequence) =>
      sequence.ownedBy
        ? [
            `ALTER SEQUENCE ${quoteQualified(sequence)} OWNED BY ${quoteQualified(sequence.ownedBy)}.${quoteIdent(sequence.ownedBy.column)};`,
          ]
        : [],
    ),
  ];

  const postData = [
    header(
      'post-data: keys, indexes, views, foreign keys, triggers, rules, policies and comments, created after the data is loaded',
    ),
    // ONLY on a partitioned table too: each partition's own index is created and attached below,
    // under the name it has on the source, as pg_dump does.
    ...tables.flatMap((table) =>
      [...(table.primaryKey ? [table.primaryKey] : []), ...table.uniqueConstraints].map(
        (key) =>
          `ALTER TABLE ONLY ${quoteQualified(table)} ADD CONSTRAINT ${quoteIdent(key.name)} ${key.definition};`,
      ),
    ),
    // NOT VALID checks go in after the rows: the source's existing rows may not satisfy them.
    ...tables.flatMap((table) =>
      table.checkConstraints
        .filter((check) => isNotValid(check) && !context.unavailable(check.requiredFunctions).length)
        .map((check) => `${alterTable(table)} ADD CONSTRAINT ${quoteIdent(check.name)} ${check.definition};`),
    ),
    ...domains.flatMap((domain) =>
      domain.checks
        .filter((check) => isNotValid(check) && !context.unavailable(check.requiredFunctions).length)
        .map(
          (check) =>
            `ALTER DOMAIN ${quoteQualified(domain)} ADD CONSTRAINT ${quoteIdent(check.name)} ${check.definition};`,
        ),
    ),
    ...tables.flatMap((table) =>
      table.exclusionConstraints.map(
        (constraint) =>
          `${alterTable(table)} ADD CONSTRAINT ${quoteIdent(constraint.name)} ${constraint.definition};`,
      ),
    ),
    ...tables.flatMap((table) => table.indexes.map((index) => createIndex(index, table, context))),
    ...tables.flatMap((table) =>
      table.attachedIndexes.map((index) =>
        index.constraint
          ? `ALTER TABLE ONLY ${quoteQualified(table)} ADD CONSTRAINT ${quoteIdent(index.constraint.name)} ${index.constraint.definition};`
          : createIndex(index, table, context),
      ),
    ),
    ...tables.flatMap((table) =>
      table.attachedIndexes.map(
        (index) =>
          `ALTER INDEX ${quoteQualified(index.parentIndex)} ATTACH PARTITION ${quoteQualified({ schema: table.schema, name: index.name })};`,
      ),
    ),
    // Views may group by a primary key (and then depend on it); functions that need a view follow it.
    ...order.afterData.map((item) => createOrdered(item, context)),
    ...views.flatMap((view) => view.indexes.map((index) => createIndex(index, view, context))),
    // Every referenced key and unique index exists by now.
    ...tables.flatMap((table) =>
      table.foreignKeys.map(
        (foreignKey) =>
          `${alterTable(table)} ADD CONSTRAINT ${quoteIdent(foreignKey.name)} ${foreignKey.definition};`,
      ),
    ),
    // Originals first: a parent's trigger state recurses to its partitions' clones.
    ...[...model.triggers]
      .sort((a, b) => Number(a.clone ?? false) - Number(b.clone ?? false))
      .flatMap(createTrigger),
    ...model.rules.flatMap(createRule),
    ...tables.flatMap(enableRowSecurity),
    ...model.policies.map(createPolicy),
    ...model.comments.map(createComment),
    // Last, once every table has its rows and every index exists.
    ...views
      .filter((view) => view.materialized && view.populated)
      .map((view) => `REFRESH MATERIALIZED VIEW ${quoteQualified(view)};`),
  ];

  return Object.freeze({ preData: script(preData), postData: script(postData) });
}

interface DdlContext {
  readonly model: SchemaModel;
  /** The functions of `required` that do not exist before the data is loaded. */
  readonly unavailable: (required: readonly string[] | undefined) => string[];
  /** The functions of `required` that the model lacks: they never exist, even after the data. */
  readonly unavailableAfterData: (required: readonly string[] | undefined) => string[];
}

function createOrdered(item: OrderedObject, context: DdlContext): string {
  switch (item.kind) {
    case 'domain':
      return createDomain(item.object, context);
    case 'composite-type':
      return createCompositeType(item.object);
    case 'range-type':
      return createRangeType(item.object);
    case 'function':
      return `${item.object.definition};`;
    case 'table':
      return createTable(item.object, context);
    case 'view':
      return createView(item.object);
  }
}

function createIndex(index: TableInfo['indexes'][number], on: QualifiedName, context: DdlContext): string {
  const missing = context.unavailableAfterData(index.requiredFunctions);
  return missing.length
    ? omitted(`index ${index.name} on ${quoteQualified(on)}`, missing)
    : `${index.definition};`;
}

/**
 * Drops the model's tables, free sequences, domains and enums if they exist, for the
 * `drop-tables` reset. The import runs this first inside a savepoint to see what CASCADE would take
 * from outside the snapshot (the user's views, foreign keys, triggers, policies, rules), recreates
 * those after the load, and refuses when one cannot be: CASCADE is never silent.
 */
export function writeDropDdl(model: SchemaModel): string {
  const dropFunction = (fn: FunctionInfo) =>
    `DROP ${fn.kind.toUpperCase()} IF EXISTS ${quoteQualified(fn)}(${fn.identityArguments})`;
  const drop = (what: string) => (object: QualifiedName) =>
    `DROP ${what} IF EXISTS ${quoteQualified(object)}`;
  // Views and tables go with CASCADE: that removes what leans on them from outside the snapshot
  // (views, foreign keys), never other tables' rows or columns.
  const cascading = [
    ...model.views.map((view) => `${drop(view.materialized ? 'MATERIALIZED VIEW' : 'VIEW')(view)} CASCADE;`),
    // Partitions go with their parents; listing them too catches a leftover detached one.
    ...model.tables.map((table) => `${drop('TABLE')(table)} CASCADE;`),
  ];
  // Everything else without CASCADE, so a type, function or sequence still used outside the
  // snapshot stops the reset (and its transaction) instead of taking a column of another table
  // with it. Snapshot objects can depend on each other in any order (a range type on its
  // function, a function on a type); the import retries a drop held up by another
  // (runDropScript), so the script itself needs no DO block, which an import never runs.
  const rest = [
    ...model.sequences.filter((sequence) => !sequence.identity).map(drop('SEQUENCE')),
    ...model.functions.filter((fn) => fn.kind === 'aggregate').map(dropFunction),
    ...model.functions.filter((fn) => fn.kind !== 'aggregate').map(dropFunction),
    ...model.domains.map(drop('DOMAIN')),
    ...[...model.compositeTypes, ...model.rangeTypes, ...model.enums].map(drop('TYPE')),
    ...model.collations.map(drop('COLLATION')),
  ];
  return script([
    '-- devsnap schema reset: drops what the snapshot recreates.\nSET client_min_messages = warning;',
    ...cascading,
    ...rest.map((statement) => `${statement};`),
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
  return `-- Left out ${what}: it calls ${functions.join(', ')}, which does not exist at this point.`;
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

function createDomain(domain: DomainInfo, context: DdlContext): string {
  const comments: string[] = [];
  let statement = `CREATE DOMAIN ${quoteQualified(domain)} AS ${domain.baseType}`;
  if (domain.collation) statement += ` COLLATE ${domain.collation}`;
  if (domain.defaultExpression !== null) {
    const missing = context.unavailable(domain.requiredFunctions);
    if (missing.length) {
      comments.push(omitted(`the default of domain ${quoteQualified(domain)}`, missing));
    } else {
      statement += ` DEFAULT ${domain.defaultExpression}`;
    }
  }
  if (domain.notNull) statement += ' NOT NULL';
  for (const check of domain.checks) {
    const missing = context.unavailable(check.requiredFunctions);
    if (missing.length) {
      comments.push(omitted(`check ${check.name} of domain ${quoteQualified(domain)}`, missing));
    } else if (!isNotValid(check)) {
      statement += `\n  CONSTRAINT ${quoteIdent(check.name)} ${check.definition}`;
    }
  }
  return [...comments, `${statement};`].join('\n');
}

function createTable(table: TableInfo, context: DdlContext): string {
  const { model } = context;
  const comments: string[] = [];
  const parent = table.partitionOf ? findTable(model, table.partitionOf) : undefined;
  const parentColumns = new Map(parent?.columns.map((column) => [column.name, column]));
  // Inheritance (not partitioning): a column the child only inherits is not listed; it takes the
  // first parent's default and NOT NULL, and differences are set after the CREATE.
  const ancestorColumns = new Map<string, ColumnInfo>();
  for (const ancestor of table.inherits.map((name) => findTable(model, name))) {
    for (const column of ancestor?.columns ?? []) {
      if (!ancestorColumns.has(column.name)) ancestorColumns.set(column.name, column);
    }
  }
  const elements: string[] = [];
  const afterCreate: string[] = [];
  const alterColumn = (column: ColumnInfo, action: string) =>
    `${alterTable(table)} ALTER COLUMN ${quoteIdent(column.name)} ${action};`;

  for (const column of table.columns) {
    const missing = context.unavailable(column.requiredFunctions);
    const expression = missing.length ? null : (column.generatedExpression ?? column.defaultExpression);
    if (missing.length) {
      const what = column.generatedExpression === null ? 'default' : 'generation expression';
      comments.push(omitted(`the ${what} of ${quoteQualified(table)}.${quoteIdent(column.name)}`, missing));
    }
    if (column.inheritedOnly) {
      const inherited = ancestorColumns.get(column.name);
      if (column.generatedExpression === null && expression !== usableExpression(inherited, context)) {
        afterCreate.push(
          alterColumn(column, expression === null ? 'DROP DEFAULT' : `SET DEFAULT ${expression}`),
        );
      }
      if (!column.nullable && inherited?.nullable !== false)
        afterCreate.push(alterColumn(column, 'SET NOT NULL'));
      continue;
    }
    if (!parent) {
      elements.push(columnDefinition(table, column, expression, model));
      continue;
    }
    // A partition gets its parent's columns, defaults and NOT NULLs; only differences are written.
    const inherited = parentColumns.get(column.name);
    const inheritedDefault = usableExpression(inherited, context);
    const options: string[] = [];
    if (column.generatedExpression === null && expression !== inheritedDefault) {
      if (expression === null) {
        afterCreate.push(alterColumn(column, 'DROP DEFAULT'));
      } else {
        options.push(`DEFAULT ${expression}`);
      }
    }
    if (!column.nullable && inherited?.nullable !== false) options.push('NOT NULL');
    if (options.length) elements.push(`${quoteIdent(column.name)} WITH OPTIONS ${options.join(' ')}`);
  }

  for (const check of table.checkConstraints) {
    const missing = context.unavailable(check.requiredFunctions);
    if (missing.length) {
      comments.push(omitted(`check ${check.name} on ${quoteQualified(table)}`, missing));
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
  const inherits = table.inherits.length
    ? ` INHERITS (${table.inherits.map(quoteQualified).join(', ')})`
    : '';
  const partitionBy = table.partitionKey ? ` PARTITION BY ${table.partitionKey}` : '';
  return [...comments, `${create}${partitionOf}${inherits}${partitionBy};`, ...afterCreate].join('\n');
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
function usableExpression(column: ColumnInfo | undefined, context: DdlContext): string | null {
  if (!column || context.unavailable(column.requiredFunctions).length) return null;
  return column.generatedExpression ?? column.defaultExpression;
}

function isNotValid(check: CheckConstraint): boolean {
  return check.definition.endsWith(' NOT VALID');
}

function findTable(model: SchemaModel, name: QualifiedName): TableInfo | undefined {
  return model.tables.find((table) => table.schema === name.schema && table.name === name.name);
}
