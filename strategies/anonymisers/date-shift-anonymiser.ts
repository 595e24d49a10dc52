import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { optionProblems } from '../option-problems.js';
import { describeOptions, type RuleOptions, withAttempt } from './rule-options.js';

export interface DateShiftOptions extends RuleOptions {
  /** Largest shift either way (default 30); never 0. */
  readonly days?: number;
  /**
   * Whose offset: `row` (default; each row its own, stable across runs), `entity` (every row of
   * the same `entityColumn` value shifts alike, so intervals between one customer's events
   * survive), or `value` (equal dates shift alike).
   */
  readonly per?: 'row' | 'entity' | 'value';
  /** With per: 'entity', e.g. `user_id`. */
  readonly entityColumn?: string;
}

/** Moves dates and timestamps by a stable pseudo-random number of days within ±days. */
export function dateShift(options: DateShiftOptions = {}): Anonymiser {
  const days = options.days ?? 30;
  const per = options.per ?? 'row';
  return {
    kind: 'dateShift',
    describe: () =>
      `dateShift(days=${days}, per=${per}${describeOptions({ entityColumn: options.entityColumn })})`,
    preserveNulls: options.preserveNulls ?? true,
    canVary: true,
    readsRow: per !== 'value',
    validate(column) {
      const optionIssues = optionProblems('dateShift()', options, [
        'days',
        'per',
        'entityColumn',
        'preserveNulls',
      ]);
      if (optionIssues.length > 0) return optionIssues;
      const problems: string[] = [];
      if (!['date', 'timestamp', 'timestamptz'].includes(column.family)) {
        problems.push(
          `dateShift() works on dates and timestamps, but ${column.qualified} is ${column.column.dataType}`,
        );
      }
      if (!Number.isInteger(days) || days < 1) problems.push('dateShift(): days must be a whole number ≥ 1');
      if (per === 'entity') {
        if (!options.entityColumn) problems.push("dateShift(): per: 'entity' needs entityColumn");
        else if (!column.table.columns.some((c) => c.name === options.entityColumn)) {
          problems.push(
            `dateShift(): ${column.table.schema}.${column.table.name} has no column ${options.entityColumn}`,
          );
        }
      }
      return problems;
    },
    bind(_column, tools) {
      const key = tools.key(this);
      return (value, row, attempt) => {
        if (value === null) return null;
        const who =
          per === 'value'
            ? value
            : per === 'entity'
              ? `\0entity\0${row.get(options.entityColumn as string) ?? row.key()}`
              : `\0row\0${row.key()}`;
        const random = key.random(withAttempt(who, attempt));
        const magnitude = random.int(1, days);
        return shiftDays(value, random.next() < 0.5 ? -magnitude : magnitude);
      };
    },
  };
}

/** Shifts `YYYY-MM-DD[ time][zone]` by whole days; infinity and BC dates stay as they are. */
export function shiftDays(text: string, offset: number): string {
  const match = /^(\d{4,})-(\d{2})-(\d{2})(.*)$/.exec(text);
  if (!match || text.endsWith(' BC')) return text;
  const date = new Date(0);
  date.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + offset);
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) return text;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}${match[4]}`;
}
