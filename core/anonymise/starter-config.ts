import { detectRelations } from '../config/relation-detection.js';
import type { VirtualRelation } from '../config/virtual-relation.js';
import { PostgresIntrospector } from '../schema/postgres-introspector.js';
import { qualifiedName, type SchemaModel } from '../schema/schema-model.js';
import { redactUrl } from '../source/pg-connection.js';
import { PgSource } from '../source/pg-source.js';
import { columnKey } from './anonymise-config.js';
import { type ClassifiedColumn, classifyColumns } from './column-classification.js';
import { readDjangoContentTypes } from './django-models.js';
import {
  type FrameworkPreset,
  frameworkPresets,
  type PresetRule,
  schemaWith,
} from './presets/framework-preset.js';
import {
  classifyWithSampledValues,
  type InferredPhoneRegions,
  inferPhoneRegions,
} from './starter-classification.js';

export interface StarterConfigOptions {
  readonly model: SchemaModel;
  readonly classified: ReadonlyMap<string, ClassifiedColumn>;
  /** Where the schema came from, without a password (shown in the header). */
  readonly source: string;
  readonly now?: Date;
  /** Module specifiers of the config's imports (tests point them at the repository's files). */
  readonly importFrom?: { readonly core: string; readonly strategies: string };
  /** Relations the conventions keep without declaring them (Django, Rails), listed as comments. */
  readonly relations?: readonly VirtualRelation[];
  /** Framework presets (default: those the schema shows, see frameworkPresets). */
  readonly presets?: readonly FrameworkPreset[];
  /** Regions the phone columns' values are valid in (inferPhoneRegions), written as `phoneRegions`. */
  readonly phoneRegions?: InferredPhoneRegions | null;
}

const BUILDERS = [
  'allRows',
  'constant',
  'custom',
  'dateShift',
  'developmentPassword',
  'djangoSerialized',
  'fake',
  'hash',
  'jsonPaths',
  'keep',
  'keepIf',
  'mask',
  'none',
  'nullValue',
  'paperTrail',
  'randomForeignKey',
  'scrub',
];

/**
 * A starter devsnap.config.ts for a database: every table with the all-rows strategy, every
 * column that looks personal with a suggested rule and a comment saying why it was flagged.
 * Foreign-key columns that reference a flagged key are listed as following it (no rule of
 * their own), so the generated config passes the strict gate as it is.
 */
export function starterConfig(options: StarterConfigOptions): string {
  const { model, classified } = options;
  const importFrom = options.importFrom ?? { core: 'devsnap', strategies: 'devsnap/strategies' };
  const tables = model.tables.filter((table) => table.partitionRoot === null);
  const presets = options.presets ?? frameworkPresets({ model, classified });
  const presetRules = new Map<string, PresetRule>();
  for (const preset of presets) for (const rule of preset.rules) presetRules.set(rule.column, rule);
  const emptyTables = new Map(presets.flatMap((preset) => [...preset.emptyTables]));
  const flagged = new Set([...classified].filter(([, c]) => c.verdict.personal).map(([key]) => key));
  for (const key of presetRules.keys()) flagged.add(key);
  // A key whose referencing column looks personal holds the same values: it gets the rule, and
  // the referencing column follows it (a rule on the foreign key alone would break it).
  const raised = new Map<string, { reason: string; suggestion: string | null }>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const table of tables) {
      for (const foreignKey of table.foreignKeys) {
        foreignKey.columns.forEach((column, index) => {
          const child = columnKey(table, column);
          const target = columnKey(foreignKey.referencedTable, foreignKey.referencedColumns[index] as string);
          if (!flagged.has(child) || flagged.has(target) || !classified.has(target)) return;
          flagged.add(target);
          raised.set(target, {
            reason: `referenced by ${child} (${foreignKey.name}), which looks personal`,
            suggestion: classified.get(child)?.verdict.suggestion ?? null,
          });
          changed = true;
        });
      }
    }
  }

  const followsOf = (key: string): string | null => {
    for (const table of tables) {
      for (const foreignKey of table.foreignKeys) {
        const index = foreignKey.columns.findIndex((column) => columnKey(table, column) === key);
        if (index < 0) continue;
        const target = columnKey(foreignKey.referencedTable, foreignKey.referencedColumns[index] as string);
        if (flagged.has(target)) return `${target} (${foreignKey.name})`;
      }
    }
    return null;
  };

  const ruleLines: string[] = [];
  let totalRows = 0;
  const tableLines = tables.map((table) => {
    const rows = table.estimatedRows;
    totalRows += Math.max(rows, 0);
    const size = rows < 0 ? 'not analysed yet' : `~${rows.toLocaleString('en-US')} rows`;
    const empty = emptyTables.get(qualifiedName(table));
    return empty
      ? `    '${qualifiedName(table)}': [none()], // ${size}; ${empty}`
      : `    '${qualifiedName(table)}': [allRows()], // ${size}`;
  });
  for (const preset of presets) {
    if (preset.rules.length === 0) continue;
    ruleLines.push(
      `      // ${preset.framework} (${preset.evidence}): what a ${preset.framework} team keeps.`,
    );
    for (const rule of preset.rules) {
      for (const line of rule.why) ruleLines.push(`      // ${line}`);
      ruleLines.push(`      '${rule.column}': ${rule.rule},`);
    }
  }
  if (presets.length > 0) ruleLines.push('      // Columns that look personal:');
  for (const table of tables) {
    for (const column of table.columns) {
      const key = columnKey(table, column.name);
      const entry = classified.get(key);
      if (!entry || !flagged.has(key) || presetRules.has(key)) continue;
      const raise = raised.get(key);
      const reasons = raise ? [raise.reason] : entry.verdict.reasons;
      const suggestion = raise ? raise.suggestion : entry.verdict.suggestion;
      const follows = followsOf(key);
      ruleLines.push(`      // ${key}: ${reasons.join('; ')}`);
      if (follows) {
        ruleLines.push(
          `      // (no rule: it references ${follows} and takes that key's mapping, so joins still match)`,
        );
        continue;
      }
      if (entry.facts.unique) ruleLines.push('      // unique: outputs stay distinct');
      ruleLines.push(`      '${key}': ${suggestion ?? "keep('explain why this is not personal')"},`);
    }
  }
  // Builders named in code, not in comments: a comment may show an alternative rule.
  const code = [...ruleLines, ...tableLines]
    .map((line) => line.replace(/^\s*\/\/.*$|\s\/\/ .*$/, ''))
    .join('\n');
  const used = BUILDERS.filter((name) => new RegExp(`\\b${name}\\(`).test(code));
  const date = (options.now ?? new Date()).toISOString().slice(0, 10);
  return [
    `// devsnap.config.ts, written by \`devsnap init\` from ${options.source} on ${date}.`,
    '//',
    '// Review it before the first export. Every column that looks personal (by its name, its type or',
    '// a sample of its values) has a rule below, with the reason it was flagged: change a rule, or',
    "// replace it with keep('why it is not personal') where the data is not personal. A column that",
    '// looks personal and has no rule stops the export (strict mode).',
    '//',
    '// Fakes are deterministic: the same input gives the same output in every table and every run,',
    '// keyed by a secret. Set DEVSNAP_SECRET to a long random string (e.g. `openssl rand -hex 32`)',
    '// and keep it the same between runs; never commit it.',
    ...presets.flatMap((preset) => ['//', ...preset.notes.map((note) => `// ${note}`)]),
    `import { defineConfig } from '${importFrom.core}';`,
    `import { ${used.sort().join(', ')} } from '${importFrom.strategies}';`,
    '',
    'export default defineConfig({',
    '  // A table this file does not name (a new one, say) stops the export until it is added below.',
    '  requireStrategies: true,',
    ...relationLines(options.relations ?? []),
    `  // Every table in full (~${totalRows.toLocaleString('en-US')} rows in total); pick subset strategies for large tables.`,
    '  tables: {',
    ...tableLines,
    '  },',
    '  anonymise: {',
    "    mode: 'strict',",
    "    secret: { env: 'DEVSNAP_SECRET' },",
    ...phoneRegionLines(options.phoneRegions ?? null),
    '    rules: {',
    ...(ruleLines.length > 0 ? ruleLines : ['      // No column looks personal.']),
    '    },',
    '  },',
    '});',
    '',
  ].join('\n');
}

/** `phoneRegions` with the shares that chose them, when the phone columns showed any. */
function phoneRegionLines(inferred: InferredPhoneRegions | null): string[] {
  if (!inferred) return [];
  return [
    '    // Phone numbers written without a country code are read as numbers of these regions (and of',
    '    // US, GB, DE, FR, ES, IT, NL, AU, IN, BR) when the export checks and scrubs text; chosen by the',
    '    // share of sampled phone values libphonenumber validates in each region:',
    ...inferred.evidence.map((line) => `    //   ${line}`),
    `    phoneRegions: [${inferred.regions.map((region) => `'${region}'`).join(', ')}],`,
  ];
}

/** Comment lines naming the relations detected, which the export checks like foreign keys. */
function relationLines(relations: readonly VirtualRelation[]): string[] {
  if (relations.length === 0) return [];
  return [
    '  // Relations the database does not declare, detected and checked like foreign keys (subsetting,',
    '  // plan, import). Switch one off with relations: { ignore: [name] }, all with relations.detect.',
    ...relations.map((relation) => {
      const kind = relation.origin === 'django' ? 'Django generic relation' : 'Rails polymorphic association';
      const by = relation.discriminator ? ` by ${relation.discriminator.name}` : '';
      return `  //   ${relation.name}: ${kind}${by}, to ${relation.targets.length} table${relation.targets.length === 1 ? '' : 's'}`;
    }),
  ];
}

/** Introspects a database and returns its starter config, plus the columns it flagged. */
export async function generateStarterConfig(
  databaseUrl: string,
  options: { readonly sampleRows?: number; readonly importFrom?: StarterConfigOptions['importFrom'] } = {},
): Promise<{
  readonly text: string;
  readonly tables: number;
  /** Application frameworks recognised in the schema, whose presets the config carries. */
  readonly frameworks: readonly { readonly framework: string; readonly evidence: string }[];
  readonly flagged: readonly ClassifiedColumn[];
  /** Names of the relations detected (Django generic relations, Rails polymorphic associations). */
  readonly relations: readonly string[];
}> {
  const source = await PgSource.connect(databaseUrl);
  try {
    const model = await new PostgresIntrospector(source).introspect();
    const sampled = await classifyColumns({ source, model, sampleRows: options.sampleRows });
    const phoneRegions = await inferPhoneRegions(sampled);
    const classified = await classifyWithSampledValues(sampled, phoneRegions?.regions ?? []);
    const djangoSchema = schemaWith(model, 'django_migrations', 'django_content_type');
    const djangoContentTypes = djangoSchema ? await readDjangoContentTypes(source, djangoSchema) : [];
    const presets = frameworkPresets({ model, classified, djangoContentTypes });
    const { relations } = await detectRelations(source, model, undefined);
    const text = starterConfig({
      relations,
      model,
      classified,
      source: redactUrl(databaseUrl),
      importFrom: options.importFrom,
      presets,
      phoneRegions,
    });
    return {
      text,
      frameworks: presets.map((preset) => ({ framework: preset.framework, evidence: preset.evidence })),
      tables: model.tables.filter((table) => table.partitionRoot === null).length,
      flagged: [...classified.values()].filter((column) => column.verdict.personal),
      relations: relations.map((relation) => relation.name),
    };
  } finally {
    await source.close();
  }
}
