import { DatabaseError, DevsnapError, errorMessage } from '../errors.js';
import type { Queryable, Row, SqlParameter } from '../source/queryable.js';
import { isRefusedExtension } from '../sql/server-side-effects.js';
import {
  ATTACHED_INDEXES_QUERY,
  type AttachedIndexRow,
  CATALOG_SESSION_SETTINGS,
  COLUMNS_QUERY,
  CONSTRAINTS_QUERY,
  type ColumnRow,
  type ConstraintRow,
  DOMAINS_QUERY,
  type DomainRow,
  ENUMS_QUERY,
  type EnumRow,
  INDEXES_QUERY,
  type IndexRow,
  inSessionSettings,
  SEQUENCES_QUERY,
  SETTINGS_QUERY,
  type SequenceRow,
  TABLES_QUERY,
  type TableRow,
  UNCAPTURED_QUERY,
  type UncapturedRow,
} from './catalog-queries.js';
import { byQualifiedName, compareText, freeze, groupBy, parseJson } from './catalog-rows.js';
import { creationOrder, unavailableFunctions } from './creation-order.js';
import { type CatalogObjects, readCatalogObjects } from './read-catalog-objects.js';
import type {
  CheckConstraint,
  ColumnInfo,
  DomainInfo,
  EnumInfo,
  ForeignKeyInfo,
  IndexInfo,
  KeyConstraint,
  QualifiedName,
  SchemaModel,
  SequenceInfo,
  TableInfo,
  UncapturedKind,
  UncapturedObject,
  ViewInfo,
} from './schema-model.js';

/**
 * Reads the catalog of a PostgreSQL database into a frozen SchemaModel: one query per kind of
 * object, each returning plain text/int/bool columns so it works through any Queryable source.
 */
export class PostgresIntrospector {
  constructor(private readonly db: Queryable) {}

  async introspect(): Promise<SchemaModel> {
    const [settings] = await this.run<Record<string, string>>('settings', SETTINGS_QUERY, false);
    let model: SchemaModel;
    try {
      model = await this.readModel(settings?.server_version ?? 'unknown');
    } catch (error) {
      // An aborted transaction refuses the restore too; the first error is the one to report.
      if (settings) await this.restoreSettings(settings).catch(() => {});
      throw error;
    }
    if (settings) await this.restoreSettings(settings);
    return model;
  }

  private async readModel(serverVersion: string): Promise<SchemaModel> {
    // One at a time: a Data API transaction runs one call at a time.
    const tables = await this.run<TableRow>('tables', TABLES_QUERY);
    const columns = await this.run<ColumnRow>('columns', COLUMNS_QUERY);
    const constraints = await this.run<ConstraintRow>('constraints', CONSTRAINTS_QUERY);
    const indexes = await this.run<IndexRow>('indexes', INDEXES_QUERY);
    const attachedIndexes = await this.run<AttachedIndexRow>('partition indexes', ATTACHED_INDEXES_QUERY);
    const sequences = await this.run<SequenceRow>('sequences', SEQUENCES_QUERY);
    const enums = await this.run<EnumRow>('enums', ENUMS_QUERY);
    const domains = await this.run<DomainRow>('domains', DOMAINS_QUERY);
    const objects = await readCatalogObjects((what, sql, params) => this.run(what, sql, true, params));
    const uncaptured = await this.run<UncapturedRow>('uncaptured objects', UNCAPTURED_QUERY);
    return buildModel(
      serverVersion,
      {
        tables,
        columns,
        constraints,
        indexes,
        attachedIndexes,
        sequences,
        enums,
        domains,
        uncaptured,
      },
      objects,
    );
  }

  private async run<R extends Row>(
    what: string,
    sql: string,
    withSettings = true,
    params?: readonly SqlParameter[],
  ): Promise<R[]> {
    try {
      return await this.db.query<R>(withSettings ? inSessionSettings(sql) : sql, params);
    } catch (error) {
      if (error instanceof DevsnapError) throw error;
      throw new DatabaseError(
        `Could not read the ${what} from the database catalog: ${errorMessage(error)}`,
        {
          cause: error,
          hint: 'devsnap reads pg_catalog; check that the database user may connect and read it.',
        },
      );
    }
  }

  /** Inside the caller's transaction the transaction-local settings would outlive introspection. */
  private async restoreSettings(settings: Record<string, string>): Promise<void> {
    const names = Object.keys(CATALOG_SESSION_SETTINGS);
    const sql = `SELECT ${names.map((name, i) => `pg_catalog.set_config('${name}', $${i + 1}, true)`).join(' || ')} AS restored`;
    await this.db.query(
      sql,
      names.map((name) => settings[name] ?? ''),
    );
  }
}

interface CatalogRows {
  readonly tables: readonly TableRow[];
  readonly columns: readonly ColumnRow[];
  readonly constraints: readonly ConstraintRow[];
  readonly indexes: readonly IndexRow[];
  readonly attachedIndexes: readonly AttachedIndexRow[];
  readonly sequences: readonly SequenceRow[];
  readonly enums: readonly EnumRow[];
  readonly domains: readonly DomainRow[];
  readonly uncaptured: readonly UncapturedRow[];
}

function buildModel(serverVersion: string, rows: CatalogRows, objects: CatalogObjects): SchemaModel {
  const byTable = <T extends { table_oid: string }>(items: readonly T[]) =>
    groupBy(items, (item) => item.table_oid);
  const columnsOf = byTable(rows.columns);
  const constraintsOf = byTable(rows.constraints);
  const indexesOf = byTable(rows.indexes);
  const attachedIndexesOf = byTable(rows.attachedIndexes);

  const views = objects.views.map(
    (view): ViewInfo =>
      freeze({ ...view, indexes: toIndexes(indexesOf.get(objects.viewOids.get(view) ?? '') ?? []) }),
  );
  const tables = rows.tables
    .map((row) =>
      toTable(
        row,
        columnsOf.get(row.oid) ?? [],
        constraintsOf.get(row.oid) ?? [],
        indexesOf.get(row.oid) ?? [],
        attachedIndexesOf.get(row.oid) ?? [],
      ),
    )
    .sort(byQualifiedName);
  const sequences = rows.sequences.map(toSequence).sort(byQualifiedName);
  const enums = rows.enums
    .map(
      (row): EnumInfo =>
        freeze({ schema: row.schema, name: row.name, labels: freeze(parseJson<string[]>(row.labels) ?? []) }),
    )
    .sort(byQualifiedName);
  const domains = rows.domains.map(toDomain).sort(byQualifiedName);
  const schemas = [
    ...new Set(
      [
        ...tables,
        ...sequences,
        ...enums,
        ...domains,
        ...objects.collations,
        ...objects.compositeTypes,
        ...objects.rangeTypes,
        ...objects.functions,
        ...views,
        ...objects.extensions
          .filter((extension) => !isRefusedExtension(extension.name))
          .filter((extension) => !/^pg_/.test(extension.schema)),
      ].map((object) => object.schema),
    ),
  ].sort(compareText);
  // An import never installs these (core/sql/server-side-effects.ts): listed, not recreated.
  const refusedExtensions = objects.extensions.filter((extension) => isRefusedExtension(extension.name));
  const extensions = objects.extensions.filter((extension) => !isRefusedExtension(extension.name));
  const ordered = { ...objects, tables, domains, views, extensions };
  const { lateFunctions } = creationOrder(ordered);
  const uncaptured: UncapturedObject[] = [
    ...rows.uncaptured.map(toUncaptured),
    ...refusedExtensions.map(
      (extension): UncapturedObject =>
        freeze({
          kind: 'extension' as const,
          schema: extension.schema,
          name: extension.name,
          detail:
            'reaches outside the database (other servers, server files or untrusted code); an import never installs it',
        }),
    ),
    ...omittedExpressions(
      tables,
      domains,
      unavailableFunctions(objects, lateFunctions),
      unavailableFunctions(objects),
    ),
  ].sort(
    (a, b) =>
      compareText(a.kind, b.kind) ||
      compareText(a.schema ?? '', b.schema ?? '') ||
      compareText(a.table ?? '', b.table ?? '') ||
      compareText(a.name, b.name),
  );
  return freeze({
    serverVersion,
    schemas: freeze(schemas),
    tables: freeze(tables),
    sequences: freeze(sequences),
    enums: freeze(enums),
    domains: freeze(domains),
    extensions: freeze(extensions),
    collations: freeze(objects.collations),
    compositeTypes: freeze(objects.compositeTypes),
    rangeTypes: freeze(objects.rangeTypes),
    functions: freeze(objects.functions),
    views: freeze(views),
    triggers: freeze(objects.triggers),
    rules: freeze(objects.rules),
    policies: freeze(objects.policies),
    comments: freeze(objects.comments),
    uncaptured: freeze(uncaptured),
  });
}

function toTable(
  row: TableRow,
  columnRows: readonly ColumnRow[],
  constraintRows: readonly ConstraintRow[],
  indexRows: readonly IndexRow[],
  attachedIndexRows: readonly AttachedIndexRow[],
): TableInfo {
  const constraints = [...constraintRows].sort((a, b) => compareText(a.name, b.name));
  const keyConstraint = (c: ConstraintRow): KeyConstraint =>
    freeze({ name: c.name, columns: freeze(parseJson<string[]>(c.columns) ?? []), definition: c.definition });
  const primaryKey = constraints.find((c) => c.type === 'p');
  return freeze({
    schema: row.schema,
    name: row.name,
    kind: row.relkind === 'p' ? 'partitioned' : 'table',
    columns: freeze([...columnRows].sort((a, b) => a.position - b.position).map(toColumn)),
    primaryKey: primaryKey ? keyConstraint(primaryKey) : null,
    uniqueConstraints: freeze(constraints.filter((c) => c.type === 'u').map(keyConstraint)),
    foreignKeys: freeze(constraints.filter((c) => c.type === 'f').map(toForeignKey)),
    checkConstraints: freeze(
      constraints
        .filter((c) => c.type === 'c')
        .map((c) => toCheck(c.name, c.definition, parseJson(c.required_functions))),
    ),
    indexes: toIndexes(indexRows),
    attachedIndexes: freeze(
      [...attachedIndexRows]
        .sort((a, b) => compareText(a.name, b.name))
        .map((index) =>
          freeze({
            name: index.name,
            definition: index.definition,
            parentIndex: freeze({ schema: index.parent_schema, name: index.parent_name }),
            constraint:
              index.constraint_name !== null && index.constraint_definition !== null
                ? freeze({ name: index.constraint_name, definition: index.constraint_definition })
                : null,
          }),
        ),
    ),
    exclusionConstraints: freeze(
      constraints
        .filter((c) => c.type === 'x')
        .map((c) => freeze({ name: c.name, definition: c.definition })),
    ),
    partitionKey: row.partition_key,
    partitionOf: qualified(row.parent_schema, row.parent_name),
    partitionBound: row.partition_bound,
    partitionRoot: qualified(row.root_schema, row.root_name),
    estimatedRows: Number(row.estimated_rows),
    unlogged: row.unlogged,
    inherits: freeze((parseJson<QualifiedName[]>(row.inherits) ?? []).map((parent) => freeze({ ...parent }))),
    rowSecurity: row.force_row_security ? 'forced' : row.row_security ? 'enabled' : 'off',
  });
}

function toIndexes(indexRows: readonly IndexRow[]): readonly IndexInfo[] {
  return freeze(
    [...indexRows]
      .sort((a, b) => compareText(a.name, b.name))
      .map(
        (index): IndexInfo =>
          freeze({
            name: index.name,
            definition: index.definition,
            ...requiredFunctions(parseJson(index.required_functions)),
          }),
      ),
  );
}

const IDENTITY: Readonly<Record<string, ColumnInfo['identity']>> = { a: 'always', d: 'by-default' };

function toColumn(row: ColumnRow): ColumnInfo {
  return freeze({
    name: row.name,
    position: row.position,
    dataType: row.data_type,
    baseType: row.base_type,
    isArray: row.is_array,
    nullable: row.nullable,
    defaultExpression: row.default_expression,
    identity: IDENTITY[row.identity] ?? null,
    generatedExpression: row.generated_expression,
    collation: row.collation,
    ...requiredFunctions(parseJson(row.required_functions)),
    ...(row.local ? {} : { inheritedOnly: true as const }),
  });
}

function toForeignKey(row: ConstraintRow): ForeignKeyInfo {
  return freeze({
    name: row.name,
    columns: freeze(parseJson<string[]>(row.columns) ?? []),
    referencedTable: freeze({ schema: row.referenced_schema ?? '', name: row.referenced_name ?? '' }),
    referencedColumns: freeze(parseJson<string[]>(row.referenced_columns) ?? []),
    definition: row.definition,
  });
}

function toCheck(name: string, definition: string, functions: readonly string[] | null): CheckConstraint {
  return freeze({ name, definition, ...requiredFunctions(functions) });
}

function toSequence(row: SequenceRow): SequenceInfo {
  return freeze({
    schema: row.schema,
    name: row.name,
    dataType: row.data_type,
    start: row.start,
    increment: row.increment,
    min: row.min,
    max: row.max,
    cache: row.cache,
    cycle: row.cycle,
    ownedBy:
      row.owner_schema !== null && row.owner_table !== null && row.owner_column !== null
        ? freeze({ schema: row.owner_schema, name: row.owner_table, column: row.owner_column })
        : null,
    identity: row.identity,
    lastValue: row.last_value,
    defaultOf: freeze((parseJson<ColumnRef[]>(row.default_columns) ?? []).map((column) => freeze(column))),
  });
}

type ColumnRef = { schema: string; name: string; column: string };

interface CheckJson {
  readonly name: string;
  readonly definition: string;
  readonly requiredFunctions: readonly string[] | null;
}

function toDomain(row: DomainRow): DomainInfo {
  return freeze({
    schema: row.schema,
    name: row.name,
    baseType: row.base_type,
    notNull: row.not_null,
    defaultExpression: row.default_expression,
    collation: row.collation,
    checks: freeze(
      (parseJson<CheckJson[]>(row.checks) ?? []).map((check) =>
        toCheck(check.name, check.definition, check.requiredFunctions),
      ),
    ),
    ...requiredFunctions(parseJson(row.required_functions)),
  });
}

const UNCAPTURED_KINDS: ReadonlySet<string> = new Set<UncapturedKind>([
  'view',
  'materialized-view',
  'function',
  'procedure',
  'aggregate',
  'trigger',
  'rule',
  'policy',
  'extension',
  'composite-type',
  'range-type',
  'collation',
  'foreign-table',
  'other',
]);

function toUncaptured(row: UncapturedRow): UncapturedObject {
  const kind = (UNCAPTURED_KINDS.has(row.kind) ? row.kind : 'other') as UncapturedKind;
  return freeze({
    kind,
    schema: row.schema,
    name: row.name,
    ...(row.table_name === null ? {} : { table: row.table_name }),
    ...(row.detail === null ? {} : { detail: row.detail }),
  });
}

/**
 * Expressions the DDL leaves out because a function they call cannot exist by then: one created
 * after the data (it needs a view) for defaults, generated columns, checks and domains, or one
 * devsnap did not capture at all for indexes.
 */
function omittedExpressions(
  tables: readonly TableInfo[],
  domains: readonly DomainInfo[],
  unavailable: (required?: readonly string[]) => string[],
  unavailableAfterData: (required?: readonly string[]) => string[],
): UncapturedObject[] {
  const omitted: UncapturedObject[] = [];
  const add = (
    schema: string,
    name: string,
    table: string | undefined,
    what: string,
    functions: string[],
  ) => {
    if (!functions.length) return;
    const detail = `${what} calls ${functions.join(', ')}, which cannot be created before it; the schema DDL leaves it out`;
    omitted.push(freeze({ kind: 'other', schema, name, ...(table === undefined ? {} : { table }), detail }));
  };
  for (const table of tables) {
    for (const column of table.columns) {
      const what = column.generatedExpression === null ? 'column default' : 'generated column expression';
      add(table.schema, column.name, table.name, what, unavailable(column.requiredFunctions));
    }
    for (const check of table.checkConstraints) {
      add(table.schema, check.name, table.name, 'check constraint', unavailable(check.requiredFunctions));
    }
    for (const index of table.indexes) {
      add(table.schema, index.name, table.name, 'index', unavailableAfterData(index.requiredFunctions));
    }
  }
  for (const domain of domains) {
    add(domain.schema, domain.name, undefined, 'domain default', unavailable(domain.requiredFunctions));
    for (const check of domain.checks) {
      add(
        domain.schema,
        check.name,
        undefined,
        `check constraint of domain ${domain.name}`,
        unavailable(check.requiredFunctions),
      );
    }
  }
  return omitted;
}

/** Present only when non-empty: most expressions call nothing, and hand-built models can leave it out. */
function requiredFunctions(functions: readonly string[] | null | undefined): {
  requiredFunctions?: readonly string[];
} {
  return functions?.length ? { requiredFunctions: freeze([...functions]) } : {};
}

function qualified(schema: string | null, name: string | null): QualifiedName | null {
  return schema !== null && name !== null ? freeze({ schema, name }) : null;
}
