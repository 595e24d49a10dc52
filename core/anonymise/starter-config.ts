import { PostgresIntrospector } from '../schema/postgres-introspector.js';
import { qualifiedName, type SchemaModel } from '../schema/schema-model.js';
import { redactUrl } from '../source/pg-connection.js';
import { PgSource } from '../source/pg-source.js';
import { columnKey } from './anonymise-config.js';
import { type ClassifiedColumn, classifyColumns } from './column-classification.js';

export interface StarterConfigOptions {
  readonly model: SchemaModel;
  readonly classified: ReadonlyMap<string, ClassifiedColumn>;
  /** Where the schema came from, without a password (shown in the header). */
  readonly source: string;
  readonly now?: Date;
  /** Module specifiers of the config's imports (tests point them at the repository's files). */
  readonly importFrom?: { readonly core: string; readonly strategies: string };
}

const RULE_BUILDERS = [
  'constant',
  'custom',
  'dateShift',
  'fake',
  'hash',
  'jsonPaths',
  'keep',
  'keepIf',
  'mask',
  'nullValue',
  'randomForeignKey',
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
  const flagged = new Set([...classified].filter(([, c]) => c.verdict.personal).map(([key]) => key));
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
    return `    '${qualifiedName(table)}': [allRows()], // ${size}`;
  });
  for (const table of tables) {
    for (const column of table.columns) {
      const key = columnKey(table, column.name);
      const entry = classified.get(key);
      if (!entry || !flagged.has(key)) continue;
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
  const rulesText = ruleLines.join('\n');
  const used = RULE_BUILDERS.filter((name) => new RegExp(`\\b${name}\\(`).test(rulesText));
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
    `import { defineConfig } from '${importFrom.core}';`,
    `import { ${['allRows', ...used].sort().join(', ')} } from '${importFrom.strategies}';`,
    '',
    'export default defineConfig({',
    '  // A table this file does not name (a new one, say) stops the export until it is added below.',
    '  requireStrategies: true,',
    `  // Every table in full (~${totalRows.toLocaleString('en-US')} rows in total); pick subset strategies for large tables.`,
    '  tables: {',
    ...tableLines,
    '  },',
    '  anonymise: {',
    "    mode: 'strict',",
    "    secret: { env: 'DEVSNAP_SECRET' },",
    '    rules: {',
    ...(ruleLines.length > 0 ? ruleLines : ['      // No column looks personal.']),
    '    },',
    '  },',
    '});',
    '',
  ].join('\n');
}

/** Introspects a database and returns its starter config, plus the columns it flagged. */
export async function generateStarterConfig(
  databaseUrl: string,
  options: { readonly sampleRows?: number; readonly importFrom?: StarterConfigOptions['importFrom'] } = {},
): Promise<{
  readonly text: string;
  readonly tables: number;
  readonly flagged: readonly ClassifiedColumn[];
}> {
  const source = await PgSource.connect(databaseUrl);
  try {
    const model = await new PostgresIntrospector(source).introspect();
    const classified = await classifyColumns({ source, model, sampleRows: options.sampleRows });
    const text = starterConfig({
      model,
      classified,
      source: redactUrl(databaseUrl),
      importFrom: options.importFrom,
    });
    return {
      text,
      tables: model.tables.filter((table) => table.partitionRoot === null).length,
      flagged: [...classified.values()].filter((column) => column.verdict.personal),
    };
  } finally {
    await source.close();
  }
}
