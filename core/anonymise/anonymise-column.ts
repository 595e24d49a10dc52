import {
  type ColumnInfo,
  type QualifiedName,
  qualifiedName,
  quoteIdent,
  type SchemaModel,
  type TableInfo,
} from '../schema/schema-model.js';
import type { AnonymiseColumn, TypeFamily } from './anonymiser.js';

const FAMILIES: Readonly<Record<string, TypeFamily>> = {
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  name: 'text',
  citext: 'text',
  char: 'text',
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  numeric: 'numeric',
  money: 'numeric',
  float4: 'float',
  float8: 'float',
  bool: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  time: 'time',
  timetz: 'time',
  uuid: 'uuid',
  json: 'json',
  jsonb: 'json',
  inet: 'inet',
  cidr: 'inet',
  macaddr: 'inet',
  macaddr8: 'inet',
  bytea: 'bytea',
  point: 'geometry',
  geometry: 'geometry',
  geography: 'geometry',
  polygon: 'geometry',
  line: 'geometry',
  lseg: 'geometry',
  box: 'geometry',
  circle: 'geometry',
  path: 'geometry',
};

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-9223372036854775808n, 9223372036854775807n],
};

/** The facts about a column that anonymisation rules and the engine need. */
export function describeColumn(model: SchemaModel, table: TableInfo, column: ColumnInfo): AnonymiseColumn {
  const element = column.isArray ? column.baseType.replace(/^_/, '') : column.baseType;
  const domain = namedType(model.domains, column);
  const declared = domain ? domain.baseType : column.dataType;
  const length = /^(?:character varying|character|varchar|char|bpchar)\((\d+)\)/.exec(declared);
  const enumInfo = namedType(model.enums, column);
  return {
    table,
    column,
    model,
    qualified: `${qualifiedName(table)}.${column.name}`,
    family: FAMILIES[element] ?? 'other',
    isArray: column.isArray,
    maxLength: length ? Number(length[1]) : null,
    integerRange: INTEGER_RANGES[element] ?? null,
    unique: uniqueColumns(table).has(column.name),
    enumLabels: enumInfo ? enumInfo.labels : null,
  };
}

/** The domain or enum a column's declared type (format_type; its element's for arrays) names. */
export function namedType<T extends QualifiedName>(types: readonly T[], column: ColumnInfo): T | undefined {
  const dataType = column.dataType.replace(/\[\]$/, '');
  return types.find((type) => {
    const bare = quoteIdent(type.name);
    return dataType === `${quoteIdent(type.schema)}.${bare}` || dataType === bare;
  });
}

/** Columns under a primary key, unique constraint or unique index (expression indexes included). */
function uniqueColumns(table: TableInfo): Set<string> {
  const names = new Set<string>();
  for (const key of [table.primaryKey, ...table.uniqueConstraints]) {
    for (const column of key?.columns ?? []) names.add(column);
  }
  for (const index of table.indexes) {
    if (!/^CREATE UNIQUE INDEX/i.test(index.definition)) continue;
    const list = /\((.*)\)(?:\s+(?:INCLUDE|WHERE|NULLS)|\s*$)/.exec(index.definition)?.[1] ?? '';
    for (const column of table.columns) {
      if (identifierPattern(column.name).test(list)) names.add(column.name);
    }
  }
  return names;
}

/** Matches a column's name as an identifier in SQL text (quoted or not). */
export function identifierPattern(name: string): RegExp {
  const quoted = quoteIdent(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return quoted.startsWith('"') ? new RegExp(quoted) : new RegExp(`(?<![\\w"$])${quoted}(?![\\w"$])`);
}

/**
 * The column as plain text of any length, not unique: for rules applied to a piece of a value
 * (a JSON leaf, a span of free text) rather than to the column's whole values.
 */
export function textPiece(column: AnonymiseColumn): AnonymiseColumn {
  return {
    ...column,
    column: { ...column.column, nullable: true },
    family: 'text',
    isArray: false,
    maxLength: null,
    unique: false,
    integerRange: null,
    enumLabels: null,
  };
}
