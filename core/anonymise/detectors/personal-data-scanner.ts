import { type DetectedSpan, type Detector, textFacts } from './detector.js';
import type { DetectorName } from './detector-names.js';
import { BASE64_TOKEN, decodeBase64, PERCENT_ESCAPE, percentDecode } from './encoded-payloads.js';

/** What a value holds: which detector, the text it matched, and how it was hidden if it was. */
export type FindingHandler = (detector: DetectorName, match: string, via: string | null) => void;

/** Payloads inside payloads (base64 of zlib of JSON holding URL-encoded text) up to this depth. */
const MAX_DEPTH = 4;

/**
 * Runs a set of detectors over text values and what they hide: JSON (every string, whatever its
 * key, \u escapes resolved), PostgreSQL arrays, base64, zlib and gzip, URL-encoding, and Django's
 * signed session and cookie values (`<base64 payload>:<timestamp>:<signature>`, a leading `.`
 * meaning zlib) — which are base64 of (zlib of) JSON, so they need nothing of their own.
 * Deterministic: the same value gives the same findings.
 */
export class PersonalDataScanner {
  private readonly buffers: DetectedSpan[][] = [];

  constructor(private readonly detectors: readonly Detector[]) {}

  /** True when no detector is active (every one allowed): scanning can be skipped. */
  get empty(): boolean {
    return this.detectors.length === 0;
  }

  /** Calls `found` for each thing found in the value or in a payload it carries. */
  scan(value: string, found: FindingHandler): void {
    if (this.detectors.length > 0) this.scanText(value, found, null, 0);
  }

  /**
   * The spans of a plain text (no decoding), in order, without overlaps: the earlier, longer wins,
   * except that a find of the known-value index (a span with a `source`) wins over a pattern's
   * find it overlaps — "Ysmeralde Crowthwaite" is two values of the users table, each with its
   * column's fake, even where the name detector reads the pair as one name.
   */
  spans(text: string): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    const facts = textFacts(text);
    for (const detector of this.detectors) detector.find(text, facts, spans);
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept: DetectedSpan[] = [];
    for (const span of spans) {
      const last = kept[kept.length - 1];
      if (!last || span.start >= last.end) kept.push(span);
      else if (span.source !== undefined && last.source === undefined) kept[kept.length - 1] = span;
    }
    return kept;
  }

  private scanText(text: string, found: FindingHandler, via: string | null, depth: number): void {
    const facts = textFacts(text);
    const spans = this.buffers[depth] ?? [];
    this.buffers[depth] = spans;
    spans.length = 0;
    for (const detector of this.detectors) detector.find(text, facts, spans);
    for (const span of spans) found(span.detector, text.slice(span.start, span.end), via);
    if (depth >= MAX_DEPTH || text.length < 16) return;
    // JSON and array text is scanned as it is; only escaped characters need it parsed.
    if (text.includes('\\u') && /^\s*[[{"]/.test(text)) {
      const unescaped = unescapeJson(text);
      if (unescaped !== text) this.scanText(unescaped, found, via ?? 'JSON', depth + 1);
    }
    if (facts.percent && PERCENT_ESCAPE.test(text)) {
      const decoded = percentDecode(text);
      if (decoded !== null && decoded !== text)
        this.scanText(decoded, found, via ?? 'URL-encoded text', depth + 1);
    }
    BASE64_TOKEN.lastIndex = 0;
    const tokens = text.match(BASE64_TOKEN);
    if (!tokens) return;
    for (const token of tokens) {
      const decoded = decodeBase64(token);
      if (decoded !== null) this.scanText(decoded.text, found, via ?? decoded.via, depth + 1);
    }
  }
}

function unescapeJson(text: string): string {
  return text.replace(/\\u([0-9A-Fa-f]{4})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
