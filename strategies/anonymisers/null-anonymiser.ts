import type { Anonymiser } from '../../core/anonymise/anonymiser.js';

/** Replaces every value with NULL (the column must be nullable). */
export function nullValue(): Anonymiser {
  return {
    kind: 'null',
    describe: () => 'nullValue()',
    preserveNulls: true,
    canVary: false,
    wholeValue: true,
    validate: (column) =>
      column.column.nullable ? [] : [`nullValue() cannot be used: ${column.qualified} is NOT NULL`],
    bind: () => () => null,
  };
}
