import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';

/** Decoded payloads larger than this are not inflated further (a zip bomb stops here). */
const MAX_DECODED = 1 << 20;
/** Base64 (standard or URL-safe, as Django's signing writes it) long enough to hide an email. */
export const BASE64_TOKEN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
export const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;

/** How a base64 token was written, so a changed payload can be written back the same way. */
export interface Base64Payload {
  /** The payload as text (inflated when it was compressed). */
  readonly text: string;
  /** How it was hidden, for messages: `a zlib-compressed base64 payload`. */
  readonly via: string;
  readonly urlSafe: boolean;
  readonly padded: boolean;
  readonly compression: 'zlib' | 'gzip' | null;
}

/** The text inside a base64 token, inflated when it is zlib or gzip; null for binary or plain words. */
export function decodeBase64(token: string): Base64Payload | null {
  // Hex digests, UUIDs and long words decode to noise: skip them without decoding.
  if (/^[0-9a-fA-F-]+$/.test(token) || /^[a-z]+$/.test(token) || /^[A-Z]+$/.test(token)) return null;
  let bytes: Buffer = Buffer.from(token, 'base64');
  let compression: Base64Payload['compression'] = null;
  if (bytes.length >= 2 && bytes[0] === 0x78 && ((bytes[0] << 8) | (bytes[1] as number)) % 31 === 0) {
    try {
      bytes = inflateSync(bytes, { maxOutputLength: MAX_DECODED });
      compression = 'zlib';
    } catch {
      return null;
    }
  } else if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_DECODED });
      compression = 'gzip';
    } catch {
      return null;
    }
  }
  if (!isText(bytes)) return null;
  return {
    text: bytes.toString('utf8'),
    via: compression ? `a ${compression}-compressed base64 payload` : 'a base64 payload',
    urlSafe: /[-_]/.test(token),
    padded: token.endsWith('='),
    compression,
  };
}

/** `text` written as `like` was: same alphabet, padding and compression. */
export function encodeBase64(text: string, like: Base64Payload): string {
  let bytes: Buffer = Buffer.from(text, 'utf8');
  if (like.compression === 'zlib') bytes = deflateSync(bytes);
  else if (like.compression === 'gzip') bytes = gzipSync(bytes);
  let encoded = bytes.toString(like.urlSafe ? 'base64url' : 'base64');
  if (like.urlSafe && like.padded) encoded += '='.repeat((4 - (encoded.length % 4)) % 4);
  if (!like.urlSafe && !like.padded) encoded = encoded.replace(/=+$/, '');
  return encoded;
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

export function percentDecode(text: string): string | null {
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

/**
 * Applies `fn` to each URL-encoded part of a text (query strings and form bodies: the parts
 * between `&`, `=`, `?`, `;` and `/`), writing a changed part back encoded, `+` for spaces where
 * the part used it. Parts without an escape are left to the caller.
 */
export function mapPercentEncoded(text: string, fn: (decoded: string) => string): string {
  return text.replace(/[^&=?;/#]+/g, (part) => {
    if (!PERCENT_ESCAPE.test(part)) return part;
    const decoded = percentDecode(part);
    if (decoded === null || decoded === part) return part;
    const changed = fn(decoded);
    if (changed === decoded) return part;
    const encoded = encodeURIComponent(changed);
    return part.includes('+') ? encoded.replace(/%20/g, '+') : encoded;
  });
}
