import { gunzipSync, inflateSync } from 'node:zlib';
import { type DetectedSpan, type Detector, textFacts } from './detector.js';
import type { DetectorName } from './detector-names.js';

/** What a value holds: which detector, the text it matched, and how it was hidden if it was. */
export type FindingHandler = (detector: DetectorName, match: string, via: string | null) => void;

/** Payloads inside payloads (base64 of zlib of JSON holding URL-encoded text) up to this depth. */
const MAX_DEPTH = 4;
/** Decoded payloads larger than this are not inflated further (a zip bomb stops here). */
const MAX_DECODED = 1 << 20;
/** Base64 (standard or URL-safe, as Django's signing writes it) long enough to hide an email. */
const BASE64_TOKEN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;

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

  /** The spans of a plain text (no decoding), in order, without overlaps (the earlier, longer wins). */
  spans(text: string): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    const facts = textFacts(text);
    for (const detector of this.detectors) detector.find(text, facts, spans);
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept: DetectedSpan[] = [];
    for (const span of spans) {
      const last = kept[kept.length - 1];
      if (!last || span.start >= last.end) kept.push(span);
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

/** The text inside a base64 token, inflated when it is zlib or gzip; null for binary or plain words. */
function decodeBase64(token: string): { text: string; via: string } | null {
  // Hex digests, UUIDs and long words decode to noise: skip them without decoding.
  if (/^[0-9a-fA-F-]+$/.test(token) || /^[a-z]+$/.test(token) || /^[A-Z]+$/.test(token)) return null;
  let bytes: Buffer = Buffer.from(token, 'base64');
  let via = 'a base64 payload';
  if (bytes.length >= 2 && bytes[0] === 0x78 && ((bytes[0] << 8) | (bytes[1] as number)) % 31 === 0) {
    try {
      bytes = inflateSync(bytes, { maxOutputLength: MAX_DECODED });
      via = 'a zlib-compressed base64 payload';
    } catch {
      return null;
    }
  } else if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_DECODED });
      via = 'a gzip-compressed base64 payload';
    } catch {
      return null;
    }
  }
  return isText(bytes) ? { text: bytes.toString('utf8'), via } : null;
}

/** Mostly printable UTF-8: at most 1 in 20 bytes a control character, and valid UTF-8. */
function isText(bytes: Buffer): boolean {
  if (bytes.length < 4) return false;
  let control = 0;
  for (const byte of bytes)
    if ((byte < 0x20 && byte !== 9 && byte !== 10 && byte !== 13) || byte === 0x7f) control++;
  if (control * 20 > bytes.length) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function percentDecode(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    // A stray % elsewhere: decode the escapes one by one.
    return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

function unescapeJson(text: string): string {
  return text.replace(/\\u([0-9A-Fa-f]{4})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
