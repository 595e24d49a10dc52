import type { AnonymisationPlan, AnonymisationPlanColumn } from '../core/anonymise/anonymisation-plan.js';
import { formatUnresolved } from '../core/anonymise/personal-data-gate.js';
import { relaxationWarning } from '../core/anonymise/relaxations.js';
import type { Manifest } from '../core/manifest.js';
import { formatTable } from './text-table.js';

/** One line per column that looks personal or has a rule: what was done and why it was flagged. */
function treatmentTable(rows: readonly AnonymisationPlanColumn[]): string {
  return formatTable(
    [{ header: 'column' }, { header: 'treatment' }, { header: 'classifier' }],
    rows.map((row) => [
      row.column,
      row.action === 'exported'
        ? row.personal
          ? 'NO RULE (exported as it is)'
          : '—'
        : row.action === 'kept'
          ? `keep: ${row.reason ?? ''}`
          : `${row.rule ?? ''}${row.via === 'foreign-key' ? ` (follows its key through ${row.matched})` : ''}`,
      row.personal ? row.reasons.join('; ') : 'not personal',
    ]),
  );
}

/** The anonymisation section of `devsnap plan`. */
export function formatAnonymisationPlan(plan: AnonymisationPlan): string {
  const anonymised = plan.columns.filter((c) => c.action === 'anonymised').length;
  const kept = plan.columns.filter((c) => c.action === 'kept').length;
  const lines = [
    `Anonymisation (${plan.mode}): ${anonymised} columns anonymised, ${kept} kept, ${plan.unresolved.length} look personal and have no rule.`,
  ];
  if (plan.columns.length > 0) lines.push('', treatmentTable(plan.columns));
  if (plan.unresolved.length > 0) {
    lines.push(
      '',
      plan.mode === 'strict'
        ? 'The export would stop on these columns; add these lines under anonymise.rules:'
        : "Mode 'warn': these columns would be exported as they are; to anonymise them, add under anonymise.rules:",
      formatUnresolved(plan.unresolved),
    );
  }
  return lines.join('\n');
}

/** The anonymisation section of `devsnap inspect`, from the manifest. */
export function formatManifestAnonymisation(manifest: Manifest): string {
  const summary = manifest.anonymisation;
  if (!summary) return 'Anonymisation: not recorded (a snapshot from before anonymisation existed).';
  // The plan's columns as the manifest recorded them: those that look personal or have a rule.
  const rows: AnonymisationPlanColumn[] = manifest.tables.flatMap((table) =>
    table.columns.flatMap(({ name, treatment: t }) =>
      t && (t.personal || t.action !== 'exported')
        ? [
            {
              column: `${table.schema}.${table.name}.${name}`,
              personal: t.personal,
              reasons: t.classifier,
              action: t.action,
              rule: t.rule ?? null,
              via: t.via ?? null,
              matched: t.matched ?? null,
              reason: t.reason ?? null,
            },
          ]
        : [],
    ),
  );
  const relaxed = relaxationWarning(manifest);
  return [
    ...(relaxed ? [`Warning: ${relaxed}`, ''] : []),
    `Anonymisation (${summary.mode}, secret from ${summary.secret}${summary.verification === 'every-value' ? ', every written value verified' : summary.verification === 'off' ? ', values not verified' : ''}): ${summary.anonymisedColumns} columns anonymised, ${summary.keptColumns} kept` +
      (summary.unresolved.length
        ? `, ${summary.unresolved.length} personal-looking columns exported as they are (warn mode)`
        : ''),
    ...(rows.length > 0 ? ['', treatmentTable(rows)] : []),
  ].join('\n');
}
