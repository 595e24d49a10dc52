import { createHash } from 'node:crypto';
import { z } from 'zod';
import { allRowsStrategy } from '../../strategies/all-rows-strategy.js';
import { type AnonymiseConfig, validateAnonymiseConfig } from '../anonymise/anonymise-config.js';
import { UsageError } from '../errors.js';
import {
  type ForeignKeyInfo,
  qualifiedName,
  type SchemaModel,
  type TableInfo,
} from '../schema/schema-model.js';
import type { Queryable } from '../source/queryable.js';
import { FOREIGN_KEY_POLICIES, type ForeignKeyPolicy, type Strategy } from '../subset/strategy.js';
import { configFileOf, type DevsnapConfig, type TableConfig } from './devsnap-config.js';
import { didYouMean } from './did-you-mean.js';
import { declaredPolicyTargets, notNullColumns, resolvePolicies } from './foreign-key-policies.js';
import {
  type DetectedRelations,
  detectRelations,
  NOTHING_DETECTED,
  unmappedDiscriminatorValues,
} from './relation-detection.js';
import type { VirtualRelation } from './virtual-relation.js';
import {
  relationPolicyTarget,
  resolveVirtualRelations,
  virtualKeyReferences,
} from './virtual-relation-resolver.js';

/** A config checked against the source's schema: every name resolved, every problem reported at once. */
export interface ResolvedConfig {
  /** Every exported table (partition roots and plain tables), by `schema.table`. */
  readonly tables: ReadonlyMap<string, ResolvedTable>;
  policyFor(table: TableInfo, foreignKey: ForeignKeyInfo): ForeignKeyPolicy;
  /** Relations the database does not declare: configured, and detected (Django, Rails) unless switched off. */
  readonly relations: readonly VirtualRelation[];
  relationPolicy(relation: VirtualRelation): ForeignKeyPolicy;
  readonly maxRows: { readonly perTable?: number; readonly total?: number };
  readonly anonymise: AnonymiseConfig | undefined;
  /** sha256 of the config's description; recorded in the manifest. */
  readonly hash: string;
}

export interface ResolvedTable {
  readonly table: TableInfo;
  readonly strategies: readonly Strategy[];
  /** Why the table is in the snapshot with these strategies: `configured` or `default strategy`. */
  readonly reason: 'configured' | 'default strategy';
  readonly maxRows: number | undefined;
}

const strategySchema = z.custom<Strategy>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Strategy).name === 'string' &&
    typeof (value as Strategy).rows === 'function' &&
    typeof (value as Strategy).describe === 'function',
  { message: 'is not a strategy (build one with the functions from devsnap/strategies)' },
);
const strategies = z.array(strategySchema);
const positive = z.number().int().positive();
const policy = z.enum(FOREIGN_KEY_POLICIES as [ForeignKeyPolicy, ...ForeignKeyPolicy[]]);

const configSchema = z
  .object({
    requireStrategies: z.boolean().optional(),
    defaultStrategy: z.union([strategySchema, strategies]).optional(),
    tables: z
      .record(
        z.string(),
        z.union([strategies, z.object({ strategies, maxRows: positive.optional() }).strict()]),
      )
      .optional(),
    foreignKeys: z
      .object({ default: policy.optional(), policies: z.record(z.string(), policy).optional() })
      .strict()
      .optional(),
    maxRows: z.object({ perTable: positive.optional(), total: positive.optional() }).strict().optional(),
    relations: z
      .object({
        virtual: z
          .array(
            z.union([
              z.object({ name: z.string().optional(), from: z.string(), to: z.string() }).strict(),
              z
                .object({
                  name: z.string().optional(),
                  from: z.string(),
                  discriminator: z.string(),
                  to: z.record(z.string(), z.string()),
                })
                .strict(),
            ]),
          )
          .optional(),
        detect: z
          .object({ django: z.boolean().optional(), rails: z.boolean().optional() })
          .strict()
          .optional(),
        ignore: z.array(z.string()).optional(),
        contentTypes: z.record(z.string(), z.string()).optional(),
        railsTypes: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    anonymise: z.object({}).passthrough().optional(),
    trust: z
      .object({ keys: z.array(z.string()).optional() })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Checks a config against the schema and resolves every name in it. Throws one UsageError that
 * lists every problem (unknown tables and columns with a "did you mean", duplicate strategy
 * names, impossible policies) before anything is exported.
 */
export function resolveConfig(
  config: DevsnapConfig,
  model: SchemaModel,
  detected: DetectedRelations = NOTHING_DETECTED,
): ResolvedConfig {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    throw configError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`),
      fixHint(config),
    );
  }
  const problems: string[] = [];
  const exported = model.tables.filter((table) => table.partitionRoot === null);
  const byName = new Map(exported.map((table) => [qualifiedName(table), table]));
  const tableNames = [...byName.keys()];

  const defaultStrategies = asList(config.defaultStrategy ?? [allRowsStrategy]);
  const configured = new Map<string, { strategies: readonly Strategy[]; maxRows?: number }>();
  for (const [key, value] of Object.entries(config.tables ?? {})) {
    const table = findTable(key, model, byName, problems);
    if (!table) continue;
    const name = qualifiedName(table);
    if (configured.has(name)) {
      problems.push(`tables.${key}: ${name} is configured twice`);
      continue;
    }
    const entry: TableConfig = Array.isArray(value) ? { strategies: value } : (value as TableConfig);
    configured.set(name, entry);
  }

  if (config.requireStrategies) {
    if (config.defaultStrategy !== undefined) {
      problems.push('requireStrategies: true leaves defaultStrategy unused; keep one of the two');
    }
    const missing = tableNames.filter((name) => !configured.has(name));
    if (missing.length > 0) {
      problems.push(
        `tables: ${missing.length} table${missing.length === 1 ? ' has' : 's have'} no strategies and requireStrategies is on: ${missing.join(', ')}; name each in tables (e.g. '${missing[0]}': [allRows()]), or set requireStrategies: false`,
      );
    }
  }
  const tables = new Map<string, ResolvedTable>();
  for (const [name, table] of byName) {
    const entry = configured.get(name);
    const list = entry?.strategies ?? defaultStrategies;
    const seen = new Set<string>();
    for (const strategy of list) {
      if (seen.has(strategy.name)) {
        problems.push(`tables.${name}: two strategies are named "${strategy.name}"; give each a unique name`);
      }
      seen.add(strategy.name);
      for (const problem of strategy.validate?.(table) ?? [])
        problems.push(`tables.${name} (${strategy.name}): ${problem}`);
      const rows = strategy.rows(table);
      if (rows.kind === 'related' && !byName.has(rows.table)) {
        problems.push(
          `tables.${name} (${strategy.name}): no table ${rows.table}${didYouMean(rows.table, tableNames)}`,
        );
      }
    }
    tables.set(name, {
      table,
      strategies: list,
      reason: entry ? 'configured' : 'default strategy',
      maxRows: entry?.maxRows ?? config.maxRows?.perTable,
    });
  }

  const defaultPolicy = config.foreignKeys?.default ?? 'restrict';
  const relations = chooseRelations(
    resolveVirtualRelations(config.relations?.virtual ?? [], byName, problems),
    detected.relations,
    config.relations?.ignore ?? [],
    problems,
  );
  problems.push(...detected.problems);
  const policies = resolvePolicies(
    config.foreignKeys?.policies ?? {},
    [...declaredPolicyTargets(model), ...relations.map(relationPolicyTarget)],
    problems,
  );
  const defaultFor = (nullifyProblem: string | null): ForeignKeyPolicy =>
    // nullify as a default only applies where it can; other keys fall back to restrict.
    defaultPolicy === 'nullify' && nullifyProblem !== null ? 'restrict' : defaultPolicy;
  problems.push(
    ...validateAnonymiseConfig(config.anonymise, model, virtualKeyReferences(relations)).map(
      (problem) => `anonymise.${problem}`,
    ),
  );
  if (problems.length > 0) throw configError(problems, fixHint(config));

  return {
    tables,
    policyFor(table, foreignKey) {
      const explicit = policies.get(`${qualifiedName(table)}.${foreignKey.name}`);
      return explicit ?? defaultFor(notNullColumns(table, foreignKey).length > 0 ? 'NOT NULL' : null);
    },
    relations,
    relationPolicy(relation) {
      return policies.get(relation.name) ?? defaultFor(relationPolicyTarget(relation).nullifyProblem);
    },
    maxRows: config.maxRows ?? {},
    anonymise: config.anonymise,
    hash: configHash(config, tables, relations),
  };
}

/**
 * resolveConfig for a source: relations the conventions (Django, Rails) keep are detected first,
 * inside the caller's snapshot, so every step of one export detects the same ones.
 */
export async function resolveSourceConfig(
  source: Queryable,
  config: DevsnapConfig,
  model: SchemaModel,
): Promise<ResolvedConfig> {
  const resolved = resolveConfig(config, model, await detectRelations(source, model, config.relations));
  const problems = await unmappedDiscriminatorValues(source, resolved.relations);
  if (problems.length > 0) throw configError(problems);
  return resolved;
}

function findTable(
  key: string,
  model: SchemaModel,
  exported: ReadonlyMap<string, TableInfo>,
  problems: string[],
): TableInfo | undefined {
  const direct = exported.get(key);
  if (direct) return direct;
  const all = model.tables;
  const partition = all.find((table) => qualifiedName(table) === key && table.partitionRoot !== null);
  if (partition?.partitionRoot) {
    problems.push(
      `tables.${key}: is a partition; configure its partitioned table ${qualifiedName(partition.partitionRoot)} instead (partitions are exported through it)`,
    );
    return undefined;
  }
  if (!key.includes('.')) {
    const candidates = [...exported.values()].filter((table) => table.name === key);
    if (candidates.length === 1) return candidates[0];
    if (candidates.length > 1) {
      problems.push(`tables.${key}: ambiguous, name one of ${candidates.map(qualifiedName).join(', ')}`);
      return undefined;
    }
  }
  problems.push(`tables.${key}: no table of that name${didYouMean(key, [...exported.keys()])}`);
  return undefined;
}

/**
 * Configured relations, then detected ones that neither the config overrides (a configured relation
 * on the same columns of the same table) nor `relations.ignore` switches off.
 */
function chooseRelations(
  configured: readonly VirtualRelation[],
  detected: readonly VirtualRelation[],
  ignore: readonly string[],
  problems: string[],
): VirtualRelation[] {
  const columnsOf = (relation: VirtualRelation) =>
    `${qualifiedName(relation.child)}(${relation.parts.map((part) => part.column.name).join(',')})`;
  const overridden = new Set(configured.map(columnsOf));
  const names = detected.map((relation) => relation.name);
  for (const name of ignore) {
    if (!names.includes(name))
      problems.push(`relations.ignore: no detected relation ${name}${didYouMean(name, names)}`);
  }
  return [
    ...configured,
    ...detected.filter((relation) => !overridden.has(columnsOf(relation)) && !ignore.includes(relation.name)),
  ];
}

function asList(strategies: Strategy | readonly Strategy[]): readonly Strategy[] {
  return Array.isArray(strategies) ? strategies : [strategies as Strategy];
}

/** Names the file the config came from (see configFileOf), not always devsnap.config.ts. */
function fixHint(config: DevsnapConfig): string {
  return `Fix them in ${configFileOf(config) ?? 'devsnap.config.ts'}; \`devsnap plan\` checks a config without exporting.`;
}

/** One UsageError listing config problems: a single one on one line, several one per line. */
export function configError(
  problems: readonly string[],
  hint = 'Fix them in devsnap.config.ts; `devsnap plan` checks a config without exporting.',
): UsageError {
  const listed = problems.length === 1 ? `: ${problems[0]}` : `s:\n  ${problems.join('\n  ')}`;
  return new UsageError(`The devsnap config has ${problems.length} problem${listed}`, { hint });
}

function configHash(
  config: DevsnapConfig,
  tables: ReadonlyMap<string, ResolvedTable>,
  relations: readonly VirtualRelation[],
): string {
  const description = {
    relations: relations.map((relation) => [
      relation.name,
      relation.origin,
      relation.targets.map((target) => [qualifiedName(target.parent), target.values]),
    ]),
    tables: [...tables].map(([name, table]) => [
      name,
      table.strategies.map((s) => `${s.name}: ${s.describe()}`),
      table.maxRows,
    ]),
    foreignKeys: config.foreignKeys ?? null,
    maxRows: config.maxRows ?? null,
    // The secret is never part of the hash (a hash of a short secret could be brute-forced).
    anonymise: JSON.stringify(config.anonymise ?? null, (key, value) => {
      if (key === 'secret') return '(secret)';
      if (value instanceof RegExp) return String(value);
      if (typeof value?.describe === 'function' && typeof value?.kind === 'string') return value.describe();
      return typeof value === 'function' ? String(value) : value;
    }),
  };
  return createHash('sha256').update(JSON.stringify(description)).digest('hex');
}
