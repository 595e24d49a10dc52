import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { allowProblems } from '../../core/anonymise/detectors/detector-names.js';
import { optionProblems } from '../option-problems.js';
import type { AllowOption } from './allow-option.js';
import { describeOptions, type RuleOptions } from './rule-options.js';

export interface MaskOptions extends RuleOptions, AllowOption {
  /** Letters and digits kept at the end (default 4). */
  readonly keepLast?: number;
  /** Replaces every other letter and digit (default `*`); punctuation and spaces stay. */
  readonly char?: string;
}

/**
 * `4111 1111 1111 1234` → `**** **** **** 1234`: keeps the shape and the last characters. What
 * it keeps is checked by the detectors as it is written (every output, not only unchanged ones).
 */
export function mask(options: MaskOptions = {}): Anonymiser {
  const keepLast = options.keepLast ?? 4;
  const char = options.char ?? '*';
  return {
    kind: 'mask',
    describe: () => `mask(keepLast=${keepLast}${describeOptions({ char: options.char })})`,
    preserveNulls: options.preserveNulls ?? true,
    canVary: false,
    verify: 'output',
    ...(options.allow ? { allow: options.allow } : {}),
    validate(column) {
      const optionIssues = optionProblems('mask()', options, ['keepLast', 'char', 'preserveNulls', 'allow']);
      if (optionIssues.length > 0) return optionIssues;
      const problems: string[] = allowProblems(options.allow, 'mask()');
      if (!Number.isInteger(keepLast) || keepLast < 0)
        problems.push('mask() keepLast must be a whole number ≥ 0');
      if ([...char].length !== 1) problems.push('mask() char must be one character');
      if (column.family !== 'text' && column.family !== 'other') {
        problems.push(`mask() works on text, but ${column.qualified} is ${column.column.dataType}`);
      }
      if (column.unique) problems.push(`mask() cannot keep ${column.qualified} unique; use hash() or fake()`);
      return problems;
    },
    bind: () => (value) => {
      if (value === null) return null;
      const chars = [...value];
      let kept = 0;
      for (let i = chars.length - 1; i >= 0; i--) {
        if (!/[\p{L}\p{N}]/u.test(chars[i] as string)) continue;
        if (kept < keepLast) kept++;
        else chars[i] = char;
      }
      return chars.join('');
    },
  };
}
