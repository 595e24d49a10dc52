import type { DevsnapConfig } from '../config/devsnap-config.js';
import { resolveSourceConfig } from '../config/resolve-config.js';
import { virtualKeyReferences } from '../config/virtual-relation-resolver.js';
import { PostgresIntrospector } from '../schema/postgres-introspector.js';
import { PgSource } from '../source/pg-source.js';
import {
  type AnonymiseMode,
  anonymiseMode,
  columnTreatments,
  sampleRows,
  treatmentAction,
} from './anonymise-config.js';
import { classifyColumns } from './column-classification.js';
import { type UnresolvedColumn, unresolvedColumns } from './personal-data-gate.js';

/** One column in the anonymisation plan: what the classifier thinks and what the export will do. */
export interface AnonymisationPlanColumn {
  /** `schema.table.column` */
  readonly column: string;
  readonly personal: boolean;
  readonly reasons: readonly string[];
  readonly action: 'anonymised' | 'kept' | 'exported';
  /** The rule, `keep`, or null when exported as it is. */
  readonly rule: string | null;
  readonly via: 'column' | 'name' | 'pattern' | 'foreign-key' | null;
  readonly matched: string | null;
  /** A kept column's reason. */
  readonly reason: string | null;
}

export interface AnonymisationPlan {
  readonly mode: AnonymiseMode;
  /** Columns that look personal or have a rule (plain columns are left out). */
  readonly columns: readonly AnonymisationPlanColumn[];
  /** What would stop a strict export, with the fix for each. */
  readonly unresolved: readonly UnresolvedColumn[];
}

/**
 * What anonymisation would do in an export with this config, without exporting: every column's
 * classification (by name, type and a sample of values) and treatment. Read-only.
 */
export async function planAnonymisation(options: {
  readonly databaseUrl: string;
  readonly config: DevsnapConfig;
}): Promise<AnonymisationPlan> {
  const source = await PgSource.connect(options.databaseUrl);
  try {
    const model = await new PostgresIntrospector(source).introspect();
    const anonymise = options.config.anonymise;
    // Plain virtual keys follow their parent's rule as declared ones do.
    const { relations } = await resolveSourceConfig(source, options.config, model);
    const treatments = columnTreatments(anonymise, model, virtualKeyReferences(relations));
    const classified = await classifyColumns({
      source,
      model,
      sampleRows: sampleRows(anonymise),
      shouldSample: (key) => treatments.get(key)?.kind === 'none',
    });
    const columns: AnonymisationPlanColumn[] = [];
    for (const [key, { verdict }] of classified) {
      const { action, rule, via, matched, reason } = treatmentAction(treatments.get(key) ?? { kind: 'none' });
      if (!verdict.personal && action === 'exported') continue;
      columns.push({
        column: key,
        personal: verdict.personal,
        reasons: verdict.reasons,
        action,
        rule: rule ?? null,
        via: via ?? null,
        matched: matched ?? null,
        reason: reason ?? null,
      });
    }
    return { mode: anonymiseMode(anonymise), columns, unresolved: unresolvedColumns(classified, treatments) };
  } finally {
    await source.close();
  }
}
