import type { Faker } from '@faker-js/faker';
import type { Strategy } from '../core/subset/strategy.js';
import { optionProblems } from './option-problems.js';

/** What a field generator gets besides faker: which generated row this is (0-based). */
export interface FactoryContext {
  readonly index: number;
  readonly table: string;
}

/** A column value: a string, number, boolean, bigint, Date, JSON-able object, or null. */
export type FactoryValue = string | number | boolean | bigint | Date | null | readonly unknown[] | object;

export type FieldGenerator = (faker: Faker, context: FactoryContext) => FactoryValue;

export interface FactoryOptions {
  /** How many rows to generate at import, besides the sampled ones. */
  readonly count: number;
  /** Generators by column. Columns left out take their default; foreign keys left out point at random imported parents. */
  readonly fields?: Readonly<Record<string, FieldGenerator>>;
  /** Same seed, same rows. Default 1. */
  readonly seed?: number;
  readonly name?: string;
}

/** A strategy whose rows are made up at import time instead of read from the source. */
export interface FactoryStrategy extends Strategy {
  readonly factory: Required<Omit<FactoryOptions, 'name'>>;
}

/**
 * Fills a table at import with generated rows — for tables whose real rows must never leave
 * production, or to have more rows than production has. Exports no rows itself; combine it with
 * a sampling strategy to get both.
 */
export function factory(options: FactoryOptions): FactoryStrategy {
  return {
    name: options.name ?? 'factory',
    describe: () => `${options.count} generated rows at import`,
    validate: (table) => {
      const problems = optionProblems('factory', options, ['count', 'fields', 'seed', 'name'], ['count']);
      if ((options.count !== undefined && !Number.isInteger(options.count)) || options.count < 0)
        problems.push('factory count must be a whole number ≥ 0');
      for (const column of Object.keys(options.fields ?? {})) {
        if (!table.columns.some((c) => c.name === column))
          problems.push(`factory field ${column}: no such column`);
      }
      return problems;
    },
    rows: () => ({ kind: 'none' }),
    factory: { count: options.count, fields: options.fields ?? {}, seed: options.seed ?? 1 },
  };
}

export function isFactoryStrategy(strategy: Strategy): strategy is FactoryStrategy {
  return typeof (strategy as Partial<FactoryStrategy>).factory === 'object';
}
