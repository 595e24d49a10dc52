import { describeColumn } from '../../core/anonymise/anonymise-column.js';
import type {
  AnonymiseColumn,
  Anonymiser,
  AnonymiserTools,
  RowValues,
} from '../../core/anonymise/anonymiser.js';
import { ColumnTransform } from '../../core/anonymise/column-transform.js';
import { loadDetectors } from '../../core/anonymise/detectors/load-detectors.js';
import { KeyedHash } from '../../core/anonymise/keyed-hash.js';
import type { KnownValues } from '../../core/anonymise/known-values/known-values.js';
import { UniqueClaims } from '../../core/anonymise/unique-claims.js';
import type { ColumnInfo, SchemaModel, TableInfo } from '../../core/schema/schema-model.js';

/** Rules bound to columns of a one-table model, for unit tests that need no database. */
export function column(
  name: string,
  dataType: string,
  baseType: string,
  extra: Partial<ColumnInfo> = {},
): ColumnInfo {
  return {
    name,
    position: 1,
    dataType,
    baseType,
    isArray: baseType.startsWith('_'),
    nullable: true,
    defaultExpression: null,
    identity: null,
    generatedExpression: null,
    collation: null,
    ...extra,
  };
}

/** Facts for one column of a one-table model (unit tests need no database). */
export function facts(
  col: ColumnInfo,
  options: { unique?: boolean; checks?: string[]; domains?: unknown[] } = {},
): AnonymiseColumn {
  const table = {
    schema: 'public',
    name: 't',
    kind: 'table',
    columns: [column('id', 'bigint', 'int8', { nullable: false }), col],
    primaryKey: { name: 't_pkey', columns: ['id'], definition: 'PRIMARY KEY (id)' },
    uniqueConstraints: options.unique
      ? [{ name: 'u', columns: [col.name], definition: `UNIQUE (${col.name})` }]
      : [],
    foreignKeys: [],
    checkConstraints: (options.checks ?? []).map((definition, i) => ({ name: `c${i}`, definition })),
    indexes: [],
  } as unknown as TableInfo;
  const model = { tables: [table], domains: options.domains ?? [], enums: [] } as unknown as SchemaModel;
  return describeColumn(model, table, col);
}

export const row = (key: string): RowValues => ({
  get: () => null,
  toObject: () => ({ id: key }),
  key: () => key,
});

export async function transformFor(
  rule: Anonymiser,
  target: AnonymiseColumn,
  secret = 'unit-secret-0123456789',
  extra: { knownValues?: KnownValues; phoneRegions?: readonly string[] } = {},
) {
  const hash = new KeyedHash(secret);
  const tools: AnonymiserTools = {
    key: (r) => hash.forRule(r),
    bind: async (r, c) => r.bind(c, tools),
    exportedValues: async () => [],
    columnTransform: async () => null,
    knownValues: async () => extra.knownValues ?? null,
    detectors: () => loadDetectors({ phoneRegions: extra.phoneRegions }),
  };
  const fn = await rule.bind(target, tools);
  return new ColumnTransform(
    rule,
    fn,
    target,
    target.unique ? new UniqueClaims() : null,
    rule.readsRow === true,
  );
}
