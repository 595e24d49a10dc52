import { z } from 'zod';
import { didYouMean } from '../config/did-you-mean.js';
import { UsageError } from '../errors.js';
import type { ManifestColumnTreatment } from '../manifest.js';
import {
  type ColumnInfo,
  exportedColumns,
  type QualifiedName,
  qualifiedName,
  type SchemaModel,
  type TableInfo,
} from '../schema/schema-model.js';
import { describeColumn } from './anonymise-column.js';
import type { Anonymiser } from './anonymiser.js';

/** Where the anonymisation secret comes from. A literal in the config works but is discouraged. */
export type SecretSpec =
  | string
  | { readonly env: string }
  | { readonly secretsManager: string; readonly field?: string; readonly region?: string };

/**
 * The `anonymise` section of a devsnap config:
 *
 * ```ts
 * anonymise: {
 *   secret: { env: 'DEVSNAP_SECRET' },
 *   rules: {
 *     email: fake('internet.email'),                    // every column named email
 *     'public.users.phone': fake('phone.number'),       // one column (wins over the name rule)
 *     'public.actor.first_name': keep('public film credits'),
 *   },
 *   patterns: [[/_token$/, hash()]],                     // by column-name pattern, first match wins
 * }
 * ```
 */
export interface AnonymiseConfig {
  /**
   * `strict` (default): a column that looks personal and has no rule stops the export. `warn`
   * reports such columns and exports them as they are; it is for trials and is recorded in the manifest.
   */
  readonly mode?: 'strict' | 'warn';
  /** Keys every fake and hash; default `{ env: 'DEVSNAP_SECRET' }`. Never written anywhere. */
  readonly secret?: SecretSpec;
  /** By `column` (every table), `table.column` or `schema.table.column`. */
  readonly rules?: Readonly<Record<string, Anonymiser>>;
  /** By column-name pattern, tried in order after `rules`. */
  readonly patterns?: readonly (readonly [RegExp, Anonymiser])[];
  /** Rows per table whose values the classifier reads (default 200); false reads none. */
  readonly sample?: { readonly rows?: number } | false;
  /**
   * Export-time verification (default on): every value that leaves the export as it came in is
   * checked by the detectors as it is written. `false` turns it off: a relaxation, recorded in the
   * manifest, that the nightly pipeline refuses unless deployed with allowUnverifiedPersonalData.
   */
  readonly verify?: boolean;
  /**
   * Regions whose national phone formats (`07597 116141` in GB) detection and scrub() recognise,
   * besides the common ones (US, GB, DE, FR, ES, IT, NL, AU, IN, BR); numbers written with `+`
   * count from every region. `devsnap init` writes the regions the phone columns' values are valid in.
   */
  readonly phoneRegions?: readonly string[];
  /** Why the relaxations in force (`mode: 'warn'`, `sample: false`, `verify: false`) are acceptable; recorded in the manifest. */
  readonly reason?: string;
}

export type AnonymiseMode = 'strict' | 'warn';

/** How a column is exported. */
export type ColumnTreatment =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'rule';
      readonly rule: Anonymiser;
      /** Which part of the config chose the rule, and its key or pattern. */
      readonly via: 'column' | 'name' | 'pattern';
      readonly matched: string;
    }
  | {
      /** A foreign-key column whose referenced key is anonymised takes the key's mapping. */
      readonly kind: 'follows';
      readonly rule: Anonymiser;
      readonly via: 'foreign-key';
      /** `schema.table.column` of the key whose mapping it shares. */
      readonly key: string;
      readonly matched: string;
    };

const anonymiserSchema = z.custom<Anonymiser>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Anonymiser).kind === 'string' &&
    typeof (value as Anonymiser).bind === 'function' &&
    typeof (value as Anonymiser).describe === 'function',
  {
    message:
      'is not an anonymisation rule (build one with fake(), hash(), keep(), … from devsnap/strategies)',
  },
);

const anonymiseSchema = z
  .object({
    mode: z.enum(['strict', 'warn']).optional(),
    secret: z
      .union([
        z.string().min(1),
        z.object({ env: z.string().min(1) }).strict(),
        z
          .object({
            secretsManager: z.string().min(1),
            field: z.string().optional(),
            region: z.string().optional(),
          })
          .strict(),
      ])
      .optional(),
    rules: z.record(z.string(), anonymiserSchema).optional(),
    patterns: z.array(z.tuple([z.instanceof(RegExp), anonymiserSchema])).optional(),
    sample: z
      .union([z.literal(false), z.object({ rows: z.number().int().positive().optional() }).strict()])
      .optional(),
    verify: z.boolean().optional(),
    phoneRegions: z
      .array(z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter region code in capitals, e.g. GB'))
      .optional(),
    reason: z.string().min(1).optional(),
  })
  .strict();

/** `schema.table.column` */
export const columnKey = (table: QualifiedName, column: string): string =>
  `${qualifiedName(table)}.${column}`;

/**
 * Every exported column's treatment, and every problem with the section (unknown tables and
 * columns with a did-you-mean, rules that do not fit their column, rules that would break a
 * foreign key), listed at once.
 */
/** A key the database does not declare, column by column: its column follows the referenced one's rule. */
export interface KeyReference {
  readonly table: QualifiedName;
  readonly column: string;
  readonly referencedTable: QualifiedName;
  readonly referencedColumn: string;
  /** The relation's name, shown as what the column follows. */
  readonly name: string;
}

export function resolveColumnTreatments(
  config: AnonymiseConfig | undefined,
  model: SchemaModel,
  virtualReferences: readonly KeyReference[] = [],
): { treatments: Map<string, ColumnTreatment>; problems: string[] } {
  const problems: string[] = [];
  const treatments = new Map<string, ColumnTreatment>();
  const parsed = anonymiseSchema.safeParse(config ?? {});
  if (!parsed.success) {
    return {
      treatments,
      problems: parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(anonymise)'}: ${issue.message}`,
      ),
    };
  }
  const exported = model.tables.filter((table) => table.partitionRoot === null);
  const byName = new Map(exported.map((table) => [qualifiedName(table), table]));

  const columnRules = new Map<string, { rule: Anonymiser; key: string }>();
  const nameRules = new Map<string, { rule: Anonymiser; key: string }>();
  const allColumnNames = new Set(exported.flatMap((table) => exportedColumns(table).map((c) => c.name)));
  for (const [key, rule] of Object.entries(config?.rules ?? {})) {
    const parts = key.split('.');
    if (parts.length === 1) {
      if (!allColumnNames.has(key)) {
        problems.push(
          `rules.${key}: no table has a column of that name${didYouMean(key, [...allColumnNames])}`,
        );
      }
      nameRules.set(key, { rule, key });
      continue;
    }
    const columnName = parts.pop() as string;
    const tableName = parts.join('.');
    const table = findTable(tableName, model, byName, `rules.${key}`, problems);
    if (!table) continue;
    const column = table.columns.find((c) => c.name === columnName);
    if (!column) {
      problems.push(
        `rules.${key}: ${qualifiedName(table)} has no column ${columnName}${didYouMean(
          columnName,
          table.columns.map((c) => c.name),
        )}`,
      );
      continue;
    }
    if (column.generatedExpression !== null) {
      problems.push(
        `rules.${key}: is a generated column; it is not exported (the import recomputes it from the columns it is computed from, so anonymise those)`,
      );
      continue;
    }
    const full = columnKey(table, columnName);
    if (columnRules.has(full)) problems.push(`rules.${key}: ${full} has two rules`);
    columnRules.set(full, { rule, key });
  }

  const own = (table: TableInfo, column: ColumnInfo): ColumnTreatment => {
    const explicit = columnRules.get(columnKey(table, column.name));
    if (explicit) return { kind: 'rule', rule: explicit.rule, via: 'column', matched: explicit.key };
    const named = nameRules.get(column.name);
    if (named) return { kind: 'rule', rule: named.rule, via: 'name', matched: named.key };
    for (const [pattern, rule] of config?.patterns ?? []) {
      pattern.lastIndex = 0;
      if (pattern.test(column.name)) return { kind: 'rule', rule, via: 'pattern', matched: String(pattern) };
    }
    return { kind: 'none' };
  };

  // Foreign keys: a column referencing an anonymised key takes the key's mapping, so joins hold.
  const references = new Map<string, { key: string; foreignKey: string }[]>();
  for (const table of exported) {
    for (const foreignKey of table.foreignKeys) {
      foreignKey.columns.forEach((column, index) => {
        const target = columnKey(foreignKey.referencedTable, foreignKey.referencedColumns[index] as string);
        const list = references.get(columnKey(table, column)) ?? [];
        list.push({ key: target, foreignKey: foreignKey.name });
        references.set(columnKey(table, column), list);
      });
    }
  }
  for (const reference of virtualReferences) {
    const key = columnKey(reference.table, reference.column);
    const list = references.get(key) ?? [];
    list.push({
      key: columnKey(reference.referencedTable, reference.referencedColumn),
      foreignKey: reference.name,
    });
    references.set(key, list);
  }
  const columnsByKey = new Map<string, { table: TableInfo; column: ColumnInfo }>();
  for (const table of exported) {
    for (const column of exportedColumns(table))
      columnsByKey.set(columnKey(table, column.name), { table, column });
  }
  const resolving = new Set<string>();
  const resolve = (key: string): ColumnTreatment => {
    const done = treatments.get(key);
    if (done) return done;
    const entry = columnsByKey.get(key);
    if (!entry) return { kind: 'none' };
    if (resolving.has(key)) return own(entry.table, entry.column);
    resolving.add(key);
    const mine = own(entry.table, entry.column);
    let result: ColumnTreatment = mine;
    for (const reference of references.get(key) ?? []) {
      const parent = resolve(reference.key);
      const parentAnonymised = parent.kind !== 'none' && parent.rule.keepReason === undefined;
      const mineAnonymised = mine.kind === 'rule' && mine.rule.keepReason === undefined;
      if (mine.kind === 'rule' && (mine.rule.kind === 'randomForeignKey' || mine.rule.kind === 'null')) break;
      if (parentAnonymised) {
        const sameRule = mine.kind === 'rule' && mine.rule.describe() === parent.rule.describe();
        if (mine.kind === 'rule' && mine.via === 'column' && !sameRule) {
          problems.push(
            `rules.${mine.matched}: ${key} references ${reference.key} (${reference.foreignKey}), which is anonymised with ${parent.rule.describe()}; ` +
              'remove this rule: foreign-key columns take their key’s mapping, or use randomForeignKey()',
          );
        }
        if (parent.rule.readsRow) {
          problems.push(
            `${reference.key}: ${parent.rule.describe()} depends on more than the value, but ${key} references it (${reference.foreignKey}) and must get the same mapping; use a rule that depends on the value only (fake, hash)`,
          );
        }
        result = {
          kind: 'follows',
          rule: parent.rule,
          via: 'foreign-key',
          key: parent.kind === 'follows' ? parent.key : reference.key,
          matched: reference.foreignKey,
        };
        break;
      }
      if (mineAnonymised && mine.kind === 'rule') {
        problems.push(
          `rules.${mine.matched}: ${mine.rule.describe()} on ${key} would break foreign key ${reference.foreignKey}, ` +
            `because ${reference.key} is exported as it is; anonymise ${reference.key} (its foreign keys follow), or use randomForeignKey() or nullValue()`,
        );
      }
    }
    resolving.delete(key);
    treatments.set(key, result);
    return result;
  };
  for (const key of columnsByKey.keys()) resolve(key);

  const validated = new Set<string>();
  for (const [key, treatment] of treatments) {
    if (treatment.kind !== 'rule') continue;
    const entry = columnsByKey.get(key);
    if (!entry) continue;
    const facts = describeColumn(model, entry.table, entry.column);
    const ruleProblems = treatment.rule.validate?.(facts) ?? [];
    if (
      ruleProblems.length === 0 &&
      facts.unique &&
      !treatment.rule.canVary &&
      treatment.rule.keepReason === undefined &&
      treatment.rule.kind !== 'null'
    ) {
      ruleProblems.push(
        `${treatment.rule.describe()} cannot keep ${key} unique (it is under a primary key or unique constraint); use hash() or fake()`,
      );
    }
    for (const problem of ruleProblems) {
      const line = `rules.${treatment.via === 'pattern' ? `patterns ${treatment.matched}` : treatment.matched} (${key}): ${problem}`;
      if (!validated.has(line)) problems.push(line);
      validated.add(line);
    }
  }
  return { treatments, problems };
}

/** Every exported column's treatment; one UsageError listing every problem when the section has any. */
export function columnTreatments(
  config: AnonymiseConfig | undefined,
  model: SchemaModel,
  virtualReferences: readonly KeyReference[] = [],
): Map<string, ColumnTreatment> {
  const { treatments, problems } = resolveColumnTreatments(config, model, virtualReferences);
  if (problems.length > 0) {
    throw new UsageError(`The anonymise section of the config has problems:\n  ${problems.join('\n  ')}`);
  }
  return treatments;
}

/** What the export does with a column under this treatment, as the manifest and the plan record it. */
export function treatmentAction(
  treatment: ColumnTreatment,
): Omit<ManifestColumnTreatment, 'personal' | 'classifier'> {
  if (treatment.kind === 'none') return { action: 'exported' };
  const { via, matched } = treatment;
  const reason = treatment.rule.keepReason;
  const allow = treatment.rule.allow?.length ? { allow: [...treatment.rule.allow] } : {};
  return reason === undefined
    ? { action: 'anonymised', rule: treatment.rule.describe(), via, matched, ...allow }
    : { action: 'kept', rule: 'keep', via, matched, reason, ...allow };
}

/** Rows per table the classifier samples: 0 for `sample: false`, undefined for the default. */
export function sampleRows(config: AnonymiseConfig | undefined): number | undefined {
  return config?.sample === false ? 0 : config?.sample?.rows;
}

/** Problems with the anonymise section for this schema, listed with every other config problem. */
export function validateAnonymiseConfig(
  config: AnonymiseConfig | undefined,
  model: SchemaModel,
  virtualReferences: readonly KeyReference[] = [],
): string[] {
  return resolveColumnTreatments(config, model, virtualReferences).problems;
}

/** The mode in force: strict unless the config says warn. */
export function anonymiseMode(config: AnonymiseConfig | undefined): AnonymiseMode {
  return config?.mode ?? 'strict';
}

function findTable(
  key: string,
  model: SchemaModel,
  exported: ReadonlyMap<string, TableInfo>,
  where: string,
  problems: string[],
): TableInfo | undefined {
  const direct = exported.get(key);
  if (direct) return direct;
  const partition = model.tables.find(
    (table) => qualifiedName(table) === key && table.partitionRoot !== null,
  );
  if (partition?.partitionRoot) {
    problems.push(
      `${where}: ${key} is a partition; name its partitioned table ${qualifiedName(partition.partitionRoot)} instead`,
    );
    return undefined;
  }
  if (!key.includes('.')) {
    const candidates = [...exported.values()].filter((table) => table.name === key);
    if (candidates.length === 1) return candidates[0];
    if (candidates.length > 1) {
      problems.push(
        `${where}: table ${key} is ambiguous, name one of ${candidates.map(qualifiedName).join(', ')}`,
      );
      return undefined;
    }
  }
  problems.push(`${where}: no table ${key}${didYouMean(key, [...exported.keys()])}`);
  return undefined;
}
