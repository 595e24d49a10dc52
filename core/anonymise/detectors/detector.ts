import type { DetectorName } from './detector-names.js';

/** Where a detector found something in a text: `text.slice(start, end)`. */
export interface DetectedSpan {
  readonly detector: DetectorName;
  readonly start: number;
  readonly end: number;
  /** For finds of the export's known-value index: which of its sources holds the value. */
  readonly source?: number;
}

/**
 * Counts taken in one pass over a text before any detector runs, so that each detector can rule
 * a text out without a regular expression (no `@`, no email; fewer than 7 digits, no phone).
 */
export interface TextFacts {
  readonly digits: number;
  readonly uppercase: number;
  readonly at: boolean;
  readonly colon: boolean;
  readonly percent: boolean;
}

/** Recognises one kind of personal data in text. */
export interface Detector {
  /** A detector's name, or `known-value` for the export's index of the source's own values. */
  readonly name: DetectorName | 'known-value';
  /** Appends what it finds in `text` to `into`, in order; returns at once when `facts` rule it out. */
  find(text: string, facts: TextFacts, into: DetectedSpan[]): void;
}

/** The counts for `text` (one pass, no allocation). */
export function textFacts(text: string): TextFacts {
  let digits = 0;
  let uppercase = 0;
  let at = false;
  let colon = false;
  let percent = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
    else if (code >= 65 && code <= 90) uppercase++;
    else if (code === 64) at = true;
    else if (code === 58) colon = true;
    else if (code === 37) percent = true;
    else if (code > 127 && text[i] !== text[i]?.toLowerCase()) uppercase++;
  }
  return { digits, uppercase, at, colon, percent };
}

/** Runs each global pattern match through `accept`; spans it accepts are appended. */
export function matchAll(
  pattern: RegExp,
  text: string,
  detector: DetectorName,
  into: DetectedSpan[],
  accept: (match: RegExpExecArray) => { start: number; end: number } | null,
): void {
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const span = accept(match);
    if (span) into.push({ detector, start: span.start, end: span.end });
    if (match[0].length === 0) pattern.lastIndex++;
  }
}
