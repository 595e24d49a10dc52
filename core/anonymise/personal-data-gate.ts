import { UsageError } from '../errors.js';
import { type ColumnTreatment, columnKey } from './anonymise-config.js';
import type { ClassifiedColumn } from './column-classification.js';

/** A column that looks personal and has neither a rule nor a keep. */
export interface UnresolvedColumn {
  /** `schema.table.column` */
  readonly column: string;
  readonly reasons: readonly string[];
  /** The config line that would fix it. */
  readonly fix: string;
}

/** The strict gate refused the export: nothing was written and `latest` did not move. */
export class PersonalDataError extends UsageError {
  override name = 'PersonalDataError';

  constructor(
    readonly columns: readonly UnresolvedColumn[],
    context = 'look personal and have no rule',
  ) {
    super(
      `The anonymisation gate stopped the export before anything was written: ${columns.length} column${columns.length === 1 ? '' : 's'} ${context}.\n${formatUnresolved(columns)}`,
      {
        hint:
          "Add these lines under anonymise.rules in devsnap.config.ts, or keep('why it is not personal') for data that is not; " +
          "`devsnap plan` shows every column's classification, and `devsnap init` writes a starter config.",
      },
    );
  }
}

/** The gate: columns whose verdict is personal and whose treatment is none. */
export function unresolvedColumns(
  classified: ReadonlyMap<string, ClassifiedColumn>,
  treatments: ReadonlyMap<string, ColumnTreatment>,
): UnresolvedColumn[] {
  const unresolved: UnresolvedColumn[] = [];
  const isUnresolved = (key: string) =>
    classified.get(key)?.verdict.personal === true && (treatments.get(key)?.kind ?? 'none') === 'none';
  for (const [key, { verdict, facts }] of classified) {
    if (!isUnresolved(key)) continue;
    // A foreign key to a column that also needs a rule follows that rule once it has one.
    let follows: string | null = null;
    for (const foreignKey of facts.table.foreignKeys) {
      const index = foreignKey.columns.indexOf(facts.column.name);
      if (index < 0) continue;
      const target = columnKey(foreignKey.referencedTable, foreignKey.referencedColumns[index] as string);
      if (isUnresolved(target))
        follows = `(no rule of its own: it follows ${target} through ${foreignKey.name} once that has a rule)`;
    }
    unresolved.push({
      column: key,
      reasons: verdict.reasons,
      fix: follows ?? fixLine(key, verdict.suggestion),
    });
  }
  return unresolved.sort((a, b) => a.column.localeCompare(b.column));
}

function fixLine(key: string, suggestion: string | null): string {
  return `'${key}': ${suggestion ?? "keep('explain why this is not personal')"},`;
}

export function formatUnresolved(columns: readonly UnresolvedColumn[]): string {
  return columns
    .map((column) => `  ${column.column}: ${column.reasons.join('; ')}\n      ${column.fix}`)
    .join('\n');
}
