import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { optionProblems } from '../option-problems.js';
import type { RuleOptions } from './rule-options.js';

/** The same value in every row (e.g. one known password hash so developers can sign in). */
export function constant(value: string | number | boolean | null, options: RuleOptions = {}): Anonymiser {
  const text = value === null ? null : typeof value === 'boolean' ? (value ? 't' : 'f') : String(value);
  return {
    kind: 'constant',
    describe: () => `constant(${JSON.stringify(value)})`,
    preserveNulls: options.preserveNulls ?? true,
    canVary: false,
    validate(column) {
      const optionIssues = optionProblems('constant()', options, ['preserveNulls']);
      if (optionIssues.length > 0) return optionIssues;
      const problems: string[] = [];
      if (text !== null && column.unique) {
        problems.push(
          `constant() would repeat one value in ${column.qualified}, which is unique; use hash() or fake()`,
        );
      }
      if (text === null && !column.column.nullable)
        problems.push(`constant(null) cannot be used: ${column.qualified} is NOT NULL`);
      if (text !== null && column.maxLength !== null && [...text].length > column.maxLength) {
        problems.push(
          `constant() is longer than ${column.qualified} allows (${column.maxLength} characters)`,
        );
      }
      if (text !== null && column.family === 'integer' && !/^-?\d+$/.test(text)) {
        problems.push(`constant() must be an integer for ${column.qualified}`);
      }
      return problems;
    },
    bind: () => () => text,
  };
}
