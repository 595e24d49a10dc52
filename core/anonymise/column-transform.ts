import { DevsnapError } from '../errors.js';
import type { TextValue } from '../source/source.js';
import type { AnonymiseColumn, Anonymiser, RowValues, ValueFunction } from './anonymiser.js';
import { formatPgArray, mapPgArray, parsePgArray } from './pg-array-text.js';
import { simpleChecks, type ValueCheck } from './simple-checks.js';
import type { UniqueClaims } from './unique-claims.js';

/** Collisions and check failures a rule may retry before the export stops. */
const MAX_ATTEMPTS = 50;
/** Per-column memo of value → output for rules that read only the value. */
const CACHE_LIMIT = 50_000;
/**
 * A memo that answers fewer than this share of a full round of lookups is switched off for the
 * next CACHE_PAUSE values (then tried again): on a column of distinct values (emails, keys) it
 * only costs its inserts and the collections of what it holds.
 */
const CACHE_MIN_HITS = 0.05;
const CACHE_PAUSE = 500_000;

/**
 * One column's anonymisation: the rule's value function plus what the engine guarantees around
 * it — NULLs, array elements, outputs that fit the column (length, integer range, simple checks)
 * and stay distinct on unique columns. Foreign-key columns that follow a key share its transform.
 */
export class ColumnTransform {
  private readonly checks: ValueCheck[];
  private readonly cache = new Map<string, TextValue>();
  private readonly cacheable: boolean;
  private cacheHits = 0;
  private cacheLookups = 0;
  /** Values still to pass before the memo is tried again (0: in use). */
  private cachePaused = 0;
  /** Inputs of a distinct transform that needed a retry, with the attempt that gave their output. */
  private readonly retried = new Map<string, number>();
  private presetAttempt: ((input: string) => number | undefined) | null = null;

  constructor(
    readonly rule: Anonymiser,
    private readonly fn: ValueFunction,
    readonly column: AnonymiseColumn,
    private readonly claims: UniqueClaims | null,
    readsRow: boolean,
  ) {
    this.checks = rule.keepReason === undefined ? simpleChecks(column) : [];
    this.cacheable = !readsRow;
  }

  /** Outputs stay distinct (a unique column, or a key following one). */
  get distinct(): boolean {
    return this.claims !== null;
  }

  /** Inputs that needed a retry to stay distinct, and on which attempt (empty for most columns). */
  get retries(): ReadonlyMap<string, number> {
    return this.retried;
  }

  /**
   * Starts inputs at the attempt another process settled them on (`retries` of the process that
   * exported the key's own table), so a foreign key that follows a unique key maps each value as
   * its parent did, whatever order the values arrive in here.
   */
  presetRetries(lookup: (input: string) => number | undefined): void {
    this.presetAttempt = lookup;
    this.cache.clear();
  }

  apply(value: TextValue, row: RowValues): TextValue {
    try {
      return this.applyRule(value, row);
    } catch (error) {
      if (error instanceof DevsnapError) throw error;
      // A rule's own error may quote the value; only its kind leaves this function.
      throw this.failure(`the rule threw ${error instanceof Error ? error.name : 'an error'}`);
    }
  }

  private applyRule(value: TextValue, row: RowValues): TextValue {
    if (value === null && this.rule.preserveNulls) return null;
    if (this.cacheable && value !== null) {
      if (this.cachePaused > 0) {
        this.cachePaused--;
        return this.compute(value, row);
      }
      this.cacheLookups++;
      const cached = this.cache.get(value);
      if (cached !== undefined) {
        this.cacheHits++;
        return cached;
      }
      const output = this.compute(value, row);
      if (this.cache.size >= CACHE_LIMIT) {
        this.cache.clear();
        if (this.cacheHits < this.cacheLookups * CACHE_MIN_HITS) this.cachePaused = CACHE_PAUSE;
        this.cacheHits = 0;
        this.cacheLookups = 0;
        if (this.cachePaused > 0) return output;
      }
      this.cache.set(value, output);
      return output;
    }
    return this.compute(value, row);
  }

  private compute(value: TextValue, row: RowValues): TextValue {
    if (this.column.isArray && !this.rule.wholeValue && value !== null) {
      let parsed: ReturnType<typeof parsePgArray>;
      try {
        parsed = parsePgArray(value);
      } catch {
        throw this.failure('a value is not a valid array');
      }
      const elements = mapPgArray(parsed.elements, (element) =>
        element === null && this.rule.preserveNulls ? null : this.scalar(element, row, false),
      );
      const output = formatPgArray(parsed.bounds, elements);
      if (this.claims && !this.claims.claim(output, value))
        throw this.failure('outputs collide in a unique array column');
      return output;
    }
    return this.scalar(value, row, this.claims !== null);
  }

  private scalar(value: TextValue, row: RowValues, unique: boolean): TextValue {
    const input = unique ? (value ?? `\0row\0${row.key()}`) : '';
    const first = unique ? (this.presetAttempt?.(input) ?? 0) : 0;
    for (let attempt = first; attempt < MAX_ATTEMPTS; attempt++) {
      const output = this.fit(this.fn(value, row, attempt));
      if (output === null) return null;
      const valid = this.checks.every((check) => check(output));
      if (valid && (!unique || (this.claims as UniqueClaims).claim(output, input))) {
        if (attempt > 0 && unique) this.retried.set(input, attempt);
        return output;
      }
      if (!this.rule.canVary) break;
    }
    throw this.failure(
      unique
        ? `it could not find a distinct output for a value in ${MAX_ATTEMPTS} attempts (the column is unique)`
        : `its outputs do not satisfy the column's check constraints`,
    );
  }

  /** Cuts text to varchar(n)/char(n); refuses integers outside the column's type. */
  private fit(output: TextValue): TextValue {
    if (output === null) return null;
    const { maxLength, integerRange } = this.column;
    if (maxLength !== null && output.length > maxLength) {
      const chars = [...output];
      if (chars.length > maxLength) return chars.slice(0, maxLength).join('');
    }
    if (integerRange) {
      if (!/^-?\d+$/.test(output)) throw this.failure('it produced a value that is not an integer');
      const number = BigInt(output);
      if (number < integerRange[0] || number > integerRange[1]) {
        throw this.failure(`it produced an integer outside the range of ${this.column.column.dataType}`);
      }
    }
    return output;
  }

  private failure(what: string): DevsnapError {
    return new DevsnapError(
      `Anonymising ${this.column.qualified} with ${this.rule.describe()} failed: ${what}.`,
      {
        hint: 'Choose a rule whose outputs fit the column (see `devsnap plan`), e.g. hash() for unique keys.',
      },
    );
  }
}
