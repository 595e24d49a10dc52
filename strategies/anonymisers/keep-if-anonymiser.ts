import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { allowProblems } from '../../core/anonymise/detectors/detector-names.js';
import { optionProblems } from '../option-problems.js';
import type { AllowOption } from './allow-option.js';

/** A raw row: column name to PostgreSQL text (booleans are `t`/`f`, NULL is null). */
export type RowPredicate = (row: Readonly<Record<string, string | null>>) => boolean;

/**
 * Keeps the real value where the row predicate holds and applies `otherwise` elsewhere, e.g.
 * staff accounts that developers sign in with:
 * `keepIf((row) => row.is_staff === 't', fake('internet.email'), { name: 'staff accounts' })`.
 * The kept values are checked by the detectors as they are written; `allow` names the ones they
 * may set off.
 */
export function keepIf(
  predicate: RowPredicate,
  otherwise: Anonymiser,
  options: { readonly name?: string } & AllowOption = {},
): Anonymiser {
  return {
    kind: 'keepIf',
    describe: () => `keepIf(${options.name ?? 'predicate'}, otherwise ${otherwise.describe()})`,
    preserveNulls: otherwise.preserveNulls,
    wholeValue: otherwise.wholeValue,
    canVary: otherwise.canVary,
    readsRow: true,
    ...(otherwise.valueKind ? { valueKind: otherwise.valueKind } : {}),
    keeps: (row) => predicate(row),
    ...(options.allow ? { allow: options.allow } : {}),
    verify: otherwise.verify ?? 'unchanged',
    validate(column) {
      const optionIssues = optionProblems('keepIf()', options, ['name', 'allow']);
      if (optionIssues.length > 0) return optionIssues;
      const problems = typeof predicate === 'function' ? [] : ['keepIf() needs a predicate function'];
      return [
        ...problems,
        ...allowProblems(options.allow, 'keepIf()'),
        ...(otherwise.validate?.(column) ?? []),
      ];
    },
    async bind(column, tools) {
      const inner = await tools.bind(otherwise, column);
      return (value, row, attempt) => (predicate(row.toObject()) ? value : inner(value, row, attempt));
    },
  };
}
