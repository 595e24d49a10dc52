import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { optionProblems } from '../option-problems.js';
import { describeOptions, fitText, type RuleOptions, seedInput } from './rule-options.js';

export interface HashOptions extends RuleOptions {
  /** `hex` (default), `uuid`, or `int` (an integer in [min, max]). */
  readonly format?: 'hex' | 'uuid' | 'int';
  /** hex digits (default 16, at most 64). */
  readonly length?: number;
  /** Put before hex output, e.g. `user_`. */
  readonly prefix?: string;
  /** int range (default 1 to the column type's maximum, or 2147483647 for other types). */
  readonly min?: number | bigint;
  readonly max?: number | bigint;
}

/**
 * A keyed pseudonym: the same input always gives the same output, and without the secret the
 * output reveals nothing about the input. Use it for identifiers, tokens and hashes.
 */
export function hash(options: HashOptions = {}): Anonymiser {
  const format = options.format ?? 'hex';
  const length = options.length ?? 16;
  const prefix = options.prefix ?? '';
  return {
    kind: 'hash',
    describe: () =>
      `hash(${format}${describeOptions({ length: options.length, prefix: options.prefix, min: options.min?.toString(), max: options.max?.toString() })})`,
    preserveNulls: options.preserveNulls ?? true,
    canVary: true,
    validate(column) {
      const optionIssues = optionProblems('hash()', options, [
        'format',
        'length',
        'prefix',
        'min',
        'max',
        'preserveNulls',
      ]);
      if (optionIssues.length > 0) return optionIssues;
      const problems: string[] = [];
      const fits: Record<string, readonly string[]> = {
        hex: ['text', 'other'],
        uuid: ['uuid', 'text', 'other'],
        int: ['integer', 'numeric', 'text', 'other'],
      };
      if (!fits[format]) return [`hash(): format must be hex, uuid or int, not ${format}`];
      if (!fits[format].includes(column.family)) {
        problems.push(
          `hash({ format: '${format}' }) does not fit ${column.qualified} (${column.column.dataType})`,
        );
      }
      if (!Number.isInteger(length) || length < 1 || length > 64)
        problems.push('hash(): length must be 1 to 64');
      if (format === 'int') {
        const [min, max] = range(options, column.integerRange);
        if (min > max) problems.push('hash(): min must not be above max');
        if (column.integerRange && (min < column.integerRange[0] || max > column.integerRange[1])) {
          problems.push(`hash(): the range does not fit ${column.qualified} (${column.column.dataType})`);
        }
      }
      return problems;
    },
    bind(column, tools) {
      const key = tools.key(this);
      const [min, max] = range(options, column.integerRange);
      const span = max - min + 1n;
      return (value, row, attempt) => {
        if (value === null && this.preserveNulls) return null;
        const digest = key.digest(seedInput(value, () => row.key(), attempt));
        if (format === 'int') return (min + (digest.readBigUInt64BE(0) % span)).toString();
        if (format === 'uuid') {
          const hex = digest.toString('hex', 0, 16).split('');
          hex[12] = '4';
          hex[16] = '89ab'[Number.parseInt(hex[16] as string, 16) & 3] as string;
          const text = hex.join('');
          return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20, 32)}`;
        }
        const hex = digest.toString('hex').slice(0, length);
        return fitText(prefix, hex, column.maxLength);
      };
    },
  };
}

function range(options: HashOptions, columnRange: readonly [bigint, bigint] | null): [bigint, bigint] {
  const min = options.min === undefined ? 1n : BigInt(options.min);
  const max = options.max === undefined ? (columnRange?.[1] ?? 2147483647n) : BigInt(options.max);
  return [min, max];
}
