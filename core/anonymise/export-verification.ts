import type { TextValue } from '../source/source.js';
import type { AnonymiseColumn, Anonymiser, RowValues } from './anonymiser.js';
import { DETECTOR_NAMES, type DetectorName } from './detectors/detector-names.js';
import type { PersonalDataScanner } from './detectors/personal-data-scanner.js';
import { redact } from './detectors/redact.js';
import {
  compileJsonPath,
  formatJson,
  type JsonPath,
  parseJson,
  unchangedLeaves,
  updateJsonPath,
} from './json-text.js';
import { survivingText } from './surviving-text.js';

/**
 * Families whose values can carry what a detector recognises: text, JSON and addresses. Numbers,
 * dates, booleans and UUIDs cannot hold an email, a name or an address; a card or phone number
 * stored as a number is caught by its column's name (`card_number`, `phone`) before any value is read.
 */
const VERIFIED_FAMILIES = new Set(['text', 'other', 'json', 'inet']);

/** Whether export-time verification reads a column of this type at all. */
export function verifiesFamily(column: AnonymiseColumn): boolean {
  return VERIFIED_FAMILIES.has(column.family);
}

/**
 * How a column's written values are checked. `output`: every value written (columns exported as
 * they are, keep, mask). `unchanged`: values, and JSON leaves, that a rule passed through as
 * they came in (keepIf's kept rows, jsonPaths' other paths); made-up outputs are not checked.
 */
export type VerificationPolicy = 'output' | 'unchanged';

/**
 * The scanners verification runs: `full` (every detector and the known-value index) over values
 * left as they came in; `sequences` (single words of the index left out) over what survives of a
 * value a rule rewrote in part, where a word may have been faked into itself by chance; `patterns`
 * over made-up outputs that equal their input by chance (a fake name that is the real one).
 */
export interface VerificationScanners {
  readonly full: PersonalDataScanner;
  readonly sequences: PersonalDataScanner;
  readonly patterns: PersonalDataScanner;
}

/** Rules that pass text through and rewrite parts of it: what survives of their input is checked. */
const PASSES_TEXT = new Set(['scrub', 'djangoSerialized', 'paperTrail', 'custom', 'jsonPaths']);

/** What verification found in one column (of one table part): counts only, never values. */
export interface ColumnVerificationResult {
  /** Non-NULL values checked. */
  readonly values: number;
  /** Values in which each detector found something, for detectors that found anything. */
  readonly hits: Partial<Record<DetectorName, number>>;
}

/** One detector's hits in a column, with a redacted example, for the error that stops the export. */
export interface VerificationHit {
  readonly column: string;
  readonly detector: DetectorName;
  readonly values: number;
  readonly checked: number;
  /** Redacted (`j***@g***.com`), and where it was hidden when it was (`a base64 payload`). */
  readonly example: string;
  /** The find was the whole value (a column of emails) rather than part of a text. */
  readonly whole: boolean;
}

const BITS = new Map(DETECTOR_NAMES.map((name, index) => [name, 1 << index]));

/** A detector's find in a value: detector, the text matched, where it was hidden. */
type Finding = readonly [DetectorName, string, string | null];
/** Values remembered per column and scanner (at most), and the longest one remembered. */
const MEMO_LIMIT = 4096;
/**
 * Below this length V8 copies a value cut out of the COPY text instead of pointing into it, so
 * remembering it keeps nothing else alive: a column of up to this many distinct short values
 * (`card_last4`, postcodes) is remembered whole instead of cleared and scanned again.
 */
const SHORT_VALUE_LENGTH = 13;
const SHORT_MEMO_LIMIT = 16384;
/** Most values hold nothing: they share one empty list. */
const NO_FINDINGS: readonly Finding[] = [];
const MEMO_VALUE_LENGTH = 512;
/** Lookups after which a column whose values repeat less than half the time stops remembering. */
const MEMO_TRIAL = 8192;

/** Checks one column's values as they stream past; one instance per column and table part. */
export class ColumnVerifier {
  private values = 0;
  private readonly counts = new Map<DetectorName, number>();
  private readonly examples = new Map<DetectorName, { example: string; whole: boolean }>();
  private cellMask = 0;
  private cellText = '';
  /**
   * What each scanner found in values seen before: columns repeat their values (cities, statuses,
   * template comments), and a repeated value gives the same finds. Null once a column shows that
   * its values rarely repeat.
   */
  private memos: Map<PersonalDataScanner, Map<string, readonly Finding[]>> | null = new Map();
  private lookups = 0;
  private repeats = 0;
  private readonly onFind = (detector: DetectorName, match: string, via: string | null): void => {
    const bit = BITS.get(detector) ?? 0;
    if (this.cellMask & bit) return;
    this.cellMask |= bit;
    this.counts.set(detector, (this.counts.get(detector) ?? 0) + 1);
    if (!this.examples.has(detector)) {
      const example = `${redact(detector, match)}${via ? ` (inside ${via})` : ''}`;
      this.examples.set(detector, { example, whole: via === null && match.trim() === this.cellText.trim() });
    }
  };

  /** Paths of a jsonPaths() rule whose outputs are made up: what they give is not the input's. */
  private readonly madeUpPaths: readonly JsonPath[];

  constructor(
    readonly column: AnonymiseColumn,
    /** Position of the column in the written rows. */
    readonly index: number,
    readonly policy: VerificationPolicy,
    private readonly scanners: VerificationScanners,
    private readonly rule: Anonymiser | null = null,
  ) {
    this.madeUpPaths = (rule?.jsonRules ?? [])
      .filter(([, pathRule]) => !PASSES_TEXT.has(pathRule.kind))
      .map(([path]) => compileJsonPath(path));
  }

  /** Checks what is written for one cell, given what was read (`input`) and what is written (`output`). */
  check(input: TextValue, output: TextValue, row?: RowValues): void {
    if (output === null) return;
    if (this.policy === 'output') {
      this.scan(output, this.scanners.full);
      return;
    }
    const rule = this.rule;
    if (output === input) {
      // A fake may equal its input by chance: only what a pattern finds counts there.
      const passed =
        !rule ||
        PASSES_TEXT.has(rule.kind) ||
        (rule.keeps !== undefined && row !== undefined && rule.keeps(row.toObject()));
      this.scan(output, passed ? this.scanners.full : this.scanners.patterns);
      return;
    }
    if (input === null || !rule || !PASSES_TEXT.has(rule.kind)) return;
    if (this.column.family === 'json') {
      // Only JSON leaves the rule passed through as they were are still raw.
      let leftover: string;
      try {
        let before = parseJson(input);
        for (const path of this.madeUpPaths) before = updateJsonPath(before, path, () => null);
        leftover = formatJson(unchangedLeaves(before, parseJson(output)));
      } catch {
        return;
      }
      this.scan(leftover, rule.kind === 'jsonPaths' ? this.scanners.full : this.scanners.sequences);
      return;
    }
    const survived = survivingText(input, output);
    if (survived !== null) this.scan(survived, this.scanners.sequences);
  }

  private scan(value: string, scanner: PersonalDataScanner): void {
    this.values++;
    this.cellMask = 0;
    this.cellText = value;
    const memo = value.length <= MEMO_VALUE_LENGTH ? this.memoFor(scanner) : null;
    if (!memo) {
      scanner.scan(value, this.onFind);
      return;
    }
    this.lookups++;
    const remembered = memo.get(value);
    if (remembered) {
      this.repeats++;
      for (const [detector, match, via] of remembered) this.onFind(detector, match, via);
      return;
    }
    const findings: Finding[] = [];
    scanner.scan(value, (detector, match, via) => {
      findings.push([detector, match, via]);
      this.onFind(detector, match, via);
    });
    // Long values in the memo stay at most MEMO_LIMIT: inserting one into a fuller memo clears it.
    if (memo.size >= (value.length < SHORT_VALUE_LENGTH ? SHORT_MEMO_LIMIT : MEMO_LIMIT)) memo.clear();
    memo.set(value, findings.length === 0 ? NO_FINDINGS : findings);
    // A column whose values rarely repeat (free text) stops remembering them.
    if (this.lookups === MEMO_TRIAL && this.repeats * 2 < this.lookups) this.memos = null;
  }

  private memoFor(scanner: PersonalDataScanner): Map<string, readonly Finding[]> | null {
    if (!this.memos) return null;
    let memo = this.memos.get(scanner);
    if (!memo) {
      memo = new Map();
      this.memos.set(scanner, memo);
    }
    return memo;
  }

  result(): ColumnVerificationResult {
    return { values: this.values, hits: Object.fromEntries(this.counts) };
  }

  /** Each detector's hits with one redacted example. */
  hits(): VerificationHit[] {
    return [...this.counts].map(([detector, values]) => {
      const { example, whole } = this.examples.get(detector) ?? { example: '', whole: false };
      return { column: this.column.qualified, detector, values, checked: this.values, example, whole };
    });
  }
}

/** The verifiers of one table part's columns. */
export class TableVerification {
  constructor(readonly verifiers: readonly ColumnVerifier[]) {}

  /** Per column name, what verification found (for the manifest). */
  results(): Map<string, ColumnVerificationResult> {
    return new Map(this.verifiers.map((verifier) => [verifier.column.column.name, verifier.result()]));
  }

  hits(): VerificationHit[] {
    return this.verifiers.flatMap((verifier) => verifier.hits());
  }
}
