import { createHash } from 'node:crypto';
import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { allowProblems } from '../../core/anonymise/detectors/detector-names.js';
import { optionProblems } from '../option-problems.js';
import type { AllowOption } from './allow-option.js';
import { type SeededFaker, seededFaker } from './faker-instances.js';
import type { RuleOptions } from './rule-options.js';
import { seedInput } from './rule-options.js';

/** What a custom function gets besides the value. Everything random in it is seeded per value. */
export interface CustomContext {
  readonly table: string;
  readonly column: string;
  /** The raw row (PostgreSQL text values). */
  readonly row: Readonly<Record<string, string | null>>;
  /** 0, or the retry number while resolving a collision on a unique column. */
  readonly attempt: number;
  /** Keyed hash of the value (hex): a function of (secret, rule, value). */
  readonly digest: string;
  /** A float in [0, 1) seeded by the digest. */
  random(): number;
  /** English faker seeded by the digest. */
  readonly faker: SeededFaker;
}

export type CustomFunction = (
  value: string | null,
  context: CustomContext,
) => string | number | boolean | null;

export interface CustomOptions extends RuleOptions, AllowOption {
  /** Shown in the plan and the manifest (default: a hash of the function's source). */
  readonly name?: string;
}

/** Your own function `(value, ctx) => value`; return PostgreSQL text (numbers and booleans are converted). */
export function custom(fn: CustomFunction, options: CustomOptions = {}): Anonymiser {
  const name =
    options.name ?? `function#${createHash('sha256').update(String(fn)).digest('hex').slice(0, 8)}`;
  return {
    kind: 'custom',
    describe: () => `custom(${name})`,
    preserveNulls: options.preserveNulls ?? true,
    canVary: true,
    readsRow: true,
    ...(options.allow ? { allow: options.allow } : {}),
    validate: () => [
      ...optionProblems('custom()', options, ['preserveNulls', 'allow', 'name']),
      ...(typeof fn === 'function' ? [] : ['custom() needs a function (value, ctx) => value']),
      ...allowProblems(options.allow, 'custom()'),
    ],
    async bind(column, tools) {
      const key = tools.key(this);
      const { faker, random } = await seededFaker('en');
      return (value, row, attempt) => {
        if (value === null && this.preserveNulls) return null;
        const digest = key.digest(seedInput(value, () => row.key(), attempt));
        random.reseed(digest);
        const output = fn(value, {
          table: `${column.table.schema}.${column.table.name}`,
          column: column.column.name,
          row: row.toObject(),
          attempt,
          digest: digest.toString('hex'),
          random: () => random.next(),
          faker,
        });
        if (output === null || output === undefined) return null;
        if (typeof output === 'boolean') return output ? 't' : 'f';
        return String(output);
      };
    },
  };
}
