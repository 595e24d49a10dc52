import type { AnonymisationPlan } from '../core/anonymise/anonymisation-plan.js';
import { formatUnresolved } from '../core/anonymise/personal-data-gate.js';
import type { Manifest } from '../core/manifest.js';
import { formatTable } from './text-table.js';

interface TreatmentRow {
  readonly column: string;
  readonly action: 'anonymised' | 'kept' | 'exported';
  readonly rule?: string | null;
  readonly via?: string | null;
  readonly matched?: string | null;
  readonly reason?: string | null;
  readonly personal: boolean;
  readonly reasons: readonly string[];
}

/** One line per column that looks personal or has a rule: what was done and why it was flagged. */
function treatmentTable(rows: readonly TreatmentRow[]): string {
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
  if (plan.columns.length > 0) lines.push('', treatmentTable(plan.columns.map((c) => ({ ...c }))));
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
  const rows: TreatmentRow[] = manifest.tables.flatMap((table) =>
    table.columns
      .filter((c) => c.treatment && (c.treatment.personal || c.treatment.action !== 'exported'))
      .map((c) => ({
        column: `${table.schema}.${table.name}.${c.name}`,
        action: c.treatment?.action ?? 'exported',
        rule: c.treatment?.rule,
        via: c.treatment?.via,
        matched: c.treatment?.matched,
        reason: c.treatment?.reason,
        personal: c.treatment?.personal ?? false,
        reasons: c.treatment?.classifier ?? [],
      })),
  );
  return [
    `Anonymisation (${summary.mode}, secret from ${summary.secret}): ${summary.anonymisedColumns} columns anonymised, ${summary.keptColumns} kept` +
      (summary.unresolved.length
        ? `, ${summary.unresolved.length} personal-looking columns exported as they are (warn mode)`
        : ''),
    ...(rows.length > 0 ? ['', treatmentTable(rows)] : []),
  ].join('\n');
}
