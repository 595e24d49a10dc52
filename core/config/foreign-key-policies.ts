import type { ForeignKeyInfo, SchemaModel, TableInfo } from '../schema/schema-model.js';
import { qualifiedName } from '../schema/schema-model.js';
import type { ForeignKeyPolicy } from '../subset/strategy.js';
import { didYouMean } from './did-you-mean.js';

/** A key a policy can be set on: a declared foreign key, or a virtual relation. */
export interface PolicyTarget {
  /** What the resolved policy is stored under: `schema.table.constraint`, or a virtual relation's name. */
  readonly id: string;
  /** Its name as a policy may spell it (`schema.table.constraint_name`, a relation's name). */
  readonly name: string;
  /** `schema.table` the key belongs to (a partitioned table for a key its partitions declare). */
  readonly table: string;
  /** The child's columns, for addressing by column (`schema.table.column`, `schema.table.(a, b)`). */
  readonly columns: readonly string[];
  /** One logical key: partitions' copies share it, so naming them together is not ambiguous. */
  readonly logical: string;
  /** Shown when an address is ambiguous, e.g. `shop_post_author_id_fkey (author_id → public.auth_user)`. */
  readonly describe: string;
  /** Why nullify cannot apply (NOT NULL columns, a key inside JSON), or null. */
  readonly nullifyProblem: string | null;
}

/** `schema.table.column` or `schema.table.(a, b)`, written without spaces or quotes to compare. */
export function columnAddress(table: string, columns: readonly string[]): string {
  return `${table}.${columns.length === 1 ? columns[0] : `(${columns.join(',')})`}`;
}

const normalise = (address: string) => address.replace(/[\s"]/g, '');

/** Every declared foreign key as a policy target (partitions' copies under their partitioned table). */
export function declaredPolicyTargets(model: SchemaModel): PolicyTarget[] {
  const byName = new Map(model.tables.map((table) => [qualifiedName(table), table]));
  return model.tables.flatMap((table) =>
    table.foreignKeys.map((foreignKey): PolicyTarget => {
      const root = table.partitionRoot ? (byName.get(qualifiedName(table.partitionRoot)) ?? table) : table;
      const references = qualifiedName(foreignKey.referencedTable);
      const required = notNullColumns(table, foreignKey);
      return {
        id: `${qualifiedName(table)}.${foreignKey.name}`,
        name: `${qualifiedName(table)}.${foreignKey.name}`,
        table: qualifiedName(root),
        columns: foreignKey.columns,
        logical: `${qualifiedName(root)}(${foreignKey.columns.join(',')})>${references}(${foreignKey.referencedColumns.join(',')})`,
        describe: `${foreignKey.name} (${foreignKey.columns.join(', ')} → ${references})`,
        nullifyProblem:
          required.length > 0
            ? `nullify needs nullable columns, but ${required.join(', ')} ${required.length === 1 ? 'is' : 'are'} NOT NULL; use restrict or include-parents`
            : null,
      };
    }),
  );
}

/** The foreign key's columns that are NOT NULL (nullify cannot apply to them). */
export function notNullColumns(table: TableInfo, foreignKey: ForeignKeyInfo): string[] {
  return foreignKey.columns.filter((column) => !table.columns.find((c) => c.name === column)?.nullable);
}

/**
 * Resolves `foreignKeys.policies`: each entry names a key by constraint (or relation) name or by
 * its columns. An address that fits two different keys is refused as ambiguous, naming both.
 * Problems are pushed to `problems`; the result is the policy per target id.
 */
export function resolvePolicies(
  entries: Readonly<Record<string, ForeignKeyPolicy>>,
  targets: readonly PolicyTarget[],
  problems: string[],
): Map<string, ForeignKeyPolicy> {
  const byAddress = new Map<string, PolicyTarget[]>();
  const add = (address: string, target: PolicyTarget) => {
    const list = byAddress.get(address) ?? [];
    if (!list.includes(target)) list.push(target);
    byAddress.set(address, list);
  };
  for (const target of targets) {
    add(normalise(target.name), target);
    add(normalise(columnAddress(target.table, target.columns)), target);
  }
  const candidates = [
    ...new Set(targets.flatMap((t) => [t.name, columnAddress(t.table, t.columns).replace(',', ', ')])),
  ];
  const resolved = new Map<string, ForeignKeyPolicy>();
  for (const [key, policy] of Object.entries(entries)) {
    const matches = byAddress.get(normalise(key)) ?? [];
    const where = `foreignKeys.policies.${key}`;
    if (matches.length === 0) {
      problems.push(
        `${where}: no foreign key of that name or on those columns (use schema.table.constraint_name or schema.table.column)${didYouMean(key, candidates)}`,
      );
      continue;
    }
    const logical = [...new Set(matches.map((target) => target.logical))];
    if (logical.length > 1) {
      const keys = logical.map((id) => (matches.find((t) => t.logical === id) as PolicyTarget).describe);
      problems.push(
        `${where}: ambiguous, it fits ${keys.join(' and ')}; name one as schema.table.constraint_name`,
      );
      continue;
    }
    const impossible = policy === 'nullify' ? matches.find((target) => target.nullifyProblem) : undefined;
    if (impossible) {
      problems.push(`${where}: ${impossible.nullifyProblem}`);
      continue;
    }
    for (const target of matches) resolved.set(target.id, policy);
  }
  return resolved;
}
