import type { Command } from 'commander';
import type { AnonymisationPlan } from '../../core/anonymise/anonymisation-plan.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../core/config/config-loader.js';
import type { SubsetPlan } from '../../core/subset/subset-plan.js';
import { type CliIo, resolveDatabaseUrl } from '../cli-context.js';
import { formatUnits } from '../format-units.js';
import { emit } from '../output.js';
import { formatTable } from '../text-table.js';

export interface PlanCommandOptions {
  databaseUrl?: string;
  config?: string;
  json?: boolean;
}

export async function runPlan(
  options: PlanCommandOptions,
  io: CliIo,
): Promise<SubsetPlan & { anonymisation: AnonymisationPlan }> {
  const databaseUrl = resolveDatabaseUrl(options.databaseUrl, io.env);
  const { config } = await loadConfig(options.config);
  const { planExport } = await import('../../core/subset/plan-export.js');
  const { planAnonymisation } = await import('../../core/anonymise/anonymisation-plan.js');
  const plan = await planExport({ databaseUrl, config });
  // Every column's classification and treatment, so the gate holds no surprise at export time.
  return { ...plan, anonymisation: await planAnonymisation({ databaseUrl, config }) };
}

/** The plan for people: one line per table, then why each subsetted table holds what it holds. */
export function formatPlan(plan: SubsetPlan): string {
  const table = formatTable(
    [
      { header: 'table' },
      { header: 'est. rows', align: 'right' },
      { header: 'of', align: 'right' },
      { header: 'strategies' },
    ],
    plan.tables.map((t) => [
      t.table,
      `${t.estimate === 'rough' ? '~' : ''}${formatUnits.count(t.estimatedRows)}`,
      formatUnits.count(t.sourceRows),
      t.strategies.length === 0
        ? '(none)'
        : t.strategies.map((s) => `${s.name}: ${s.description}`).join('; '),
    ]),
  );
  const whole = plan.tables.filter((t) => t.estimatedRows >= t.sourceRows && t.reasons.length === 1);
  const explained = plan.tables
    .filter((t) => !whole.includes(t))
    .map((t) => [`  ${t.table}`, ...t.reasons.map((reason) => `    ${reason}`)].join('\n'));
  const policies = plan.tables.flatMap((t) => t.foreignKeys.map((fk) => fk.policy));
  const count = (policy: string) => policies.filter((p) => p === policy).length;
  return [
    `About ${formatUnits.count(plan.estimatedRows)} rows in ${plan.tables.length} tables.${roughNote(plan)}`,
    '',
    table,
    ...(explained.length > 0 ? ['', 'Why:', ...explained] : []),
    ...(whole.length === plan.tables.length
      ? ['Every table is exported whole.']
      : whole.length > 0
        ? [`  ${whole.length} other tables: every row, nothing to prune.`]
        : []),
    '',
    `Foreign keys: ${count('restrict')} restrict, ${count('include-parents')} include-parents, ${count('nullify')} nullify.`,
    ...virtualSummary(plan),
    ...plan.warnings.map((warning) => `! ${warning}: the export would stop.`),
  ].join('\n');
}

/** Which counts are estimates (marked ~), and how to read them. */
function roughNote(plan: SubsetPlan): string {
  const rough = plan.tables.filter((t) => t.estimate === 'rough').length;
  if (rough === 0) return ' Counts are exact (the selection was run over keys).';
  return ` ${rough} count${rough === 1 ? ' is a rough estimate' : 's are rough estimates'} (~) from planner statistics: those tables were too large to count over keys.`;
}

/** How many keys the database does not declare, by where they come from. */
function virtualSummary(plan: SubsetPlan): string[] {
  const origins = new Map<string, number>();
  for (const key of plan.tables.flatMap((t) => t.foreignKeys)) {
    if (key.virtual) origins.set(key.virtual, (origins.get(key.virtual) ?? 0) + 1);
  }
  if (origins.size === 0) return [];
  const parts = [...origins].map(
    ([origin, n]) => `${n} ${origin === 'config' ? 'from the config' : `detected (${origin})`}`,
  );
  return [
    `Keys the database does not declare, checked like foreign keys: ${parts.join(', ')} (relations.detect switches detection off).`,
  ];
}

export function registerPlan(program: Command, io: CliIo): void {
  program
    .command('plan')
    .description('Show what an export would take with a config, table by table, without exporting')
    .option('--database-url <url>', 'source database (default: $DEVSNAP_DATABASE_URL); only ever read')
    .option(
      '--config <file>',
      `strategies and foreign-key policies (default: ./${DEFAULT_CONFIG_FILE} when present)`,
    )
    .option('--json', 'print the plan as JSON')
    .addHelpText(
      'after',
      '\nCounts are exact where the selection over keys is cheap (tables read hold up to 2,000,000 rows);\n' +
        'beyond that they are rough estimates (~) from planner statistics: run ANALYZE on the source for better ones.\n' +
        'Example:\n  devsnap plan --database-url postgres://readonly@prod-replica/app --config devsnap.config.ts',
    )
    .action(async (options: PlanCommandOptions) => {
      const plan = await runPlan(options, io);
      const { formatAnonymisationPlan } = await import('../anonymisation-report.js');
      emit(io, options.json, { command: 'plan', ...plan }, () =>
        [formatPlan(plan), '', formatAnonymisationPlan(plan.anonymisation)].join('\n'),
      );
    });
}
