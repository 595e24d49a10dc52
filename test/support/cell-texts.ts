import { inflateSync } from 'node:zlib';

const DJANGO_SIGNED = /^(\.?)([A-Za-z0-9_-]+={0,2}):[A-Za-z0-9]+:[A-Za-z0-9_-]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^[A-Za-z0-9_-]{16,}={0,2}$/;

/**
 * Every text a cell holds, decoded the ways an application stores text: the cell itself, every
 * string (and key) inside JSON, Django's signed format (`[.]payload:timestamp:signature`, `.`
 * meaning zlib), base64 and base64url, zlib, and URL-encoding — nested, a few levels deep. The
 * privacy scan looks for personal values in all of them.
 */
export function cellTexts(value: string, depth = 0): string[] {
  const texts = [value];
  if (depth > 4 || value.length < 4) return texts;
  const more = (text: string | null) => {
    if (text !== null && text !== value) texts.push(...cellTexts(text, depth + 1));
  };
  const signed = DJANGO_SIGNED.exec(value);
  if (signed) {
    const bytes = Buffer.from(signed[2] as string, 'base64url');
    more(utf8(signed[1] === '.' ? inflate(bytes) : bytes));
  }
  if (value.length >= 8 && BASE64.test(value)) {
    const bytes = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    more(utf8(bytes));
    more(utf8(inflate(bytes)));
  }
  if (/%[0-9A-Fa-f]{2}/.test(value)) {
    try {
      more(decodeURIComponent(value.replace(/\+/g, ' ')));
    } catch {
      // Not URL-encoded after all.
    }
  }
  const trimmed = value.trim();
  if (/^[[{"]/.test(trimmed)) {
    try {
      for (const leaf of jsonStrings(JSON.parse(trimmed))) more(leaf);
    } catch {
      // Not JSON.
    }
  }
  return texts;
}

function jsonStrings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(jsonStrings);
  if (node !== null && typeof node === 'object')
    return Object.entries(node).flatMap(([key, item]) => [key, ...jsonStrings(item)]);
  return [];
}

function inflate(bytes: Buffer): Buffer | null {
  try {
    return inflateSync(bytes);
  } catch {
    return null;
  }
}

/** The bytes as text when they are valid UTF-8 without control characters (else not text). */
function utf8(bytes: Buffer | null): string | null {
  if (!bytes || bytes.length === 0) return null;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.includes('\uFFFD')) return null;
  // Binary that happens to decode: control characters other than whitespace.
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 32 && char !== '\n' && char !== '\r' && char !== '\t') return null;
  }
  return text;
}

const TOKENS = /[\p{L}\p{N}]+/gu;
const isWordChar = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}]/u.test(char);

/**
 * Finds known values in texts fast (the scan looks for thousands of values in every cell): values
 * are indexed by their first word, and a candidate counts when it appears as whole words, case
 * aside (`Ann` is not found in `Anna`, `JANE SMITH` is `Jane Smith`).
 */
export class ValueIndex {
  private readonly byToken = new Map<string, string[]>();
  private count = 0;

  /** Distinct values indexed. */
  get size(): number {
    return this.count;
  }

  constructor(values: Iterable<string>) {
    for (const value of new Set(values)) {
      this.count++;
      const lower = value.toLowerCase();
      const first = lower.match(TOKENS)?.[0];
      if (!first) continue;
      const list = this.byToken.get(first) ?? [];
      list.push(lower);
      this.byToken.set(first, list);
    }
  }

  /** The indexed values (lower case) that `text` contains as whole words. */
  find(text: string): string[] {
    const lower = text.toLowerCase();
    const found = new Set<string>();
    for (const token of new Set(lower.match(TOKENS) ?? [])) {
      for (const value of this.byToken.get(token) ?? []) {
        for (let at = lower.indexOf(value); at >= 0; at = lower.indexOf(value, at + 1)) {
          if (!isWordChar(lower[at - 1]) && !isWordChar(lower[at + value.length])) {
            found.add(value);
            break;
          }
        }
      }
    }
    return [...found];
  }
}
