import { z } from 'zod';

/**
 * The value shapes a manifest may hold. A manifest comes from a store, and a store is not trusted:
 * every string that can reach SQL is an identifier or an integer in a fixed form, and every string
 * that reaches a terminal (`devsnap inspect`) carries no control characters.
 */

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; a longer one was never in a catalog. */
const IDENTIFIER_BYTES = 63;

/** C0 and C1 control characters other than tab and newline: terminal escapes, NUL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it refuses.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it escapes.
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Text from a hostile file, safe to print: control characters escaped, length bounded. */
export function printable(text: string): string {
  const escaped = text.replace(
    ANY_CONTROL,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > 300 ? `${escaped.slice(0, 300)}…` : escaped;
}

/** Free text (rule names, reasons, versions): bounded, printable. */
export const manifestText = z
  .string()
  .max(4096)
  .refine((text) => !CONTROL.test(text), 'contains control characters');

/** A schema, table, column, constraint or type name as PostgreSQL stores it. */
export const identifier = z
  .string()
  .min(1)
  .refine((name) => Buffer.byteLength(name) <= IDENTIFIER_BYTES, `longer than ${IDENTIFIER_BYTES} bytes`)
  .refine((name) => !CONTROL.test(name), 'contains control characters');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const INT64_TEXT = /^-?(0|[1-9][0-9]{0,18})$/;

/** A bigint in decimal text (sequence positions do not fit a JSON number). */
export const int64Text = z.string().refine((text) => {
  if (!INT64_TEXT.test(text)) return false;
  const value = BigInt(text);
  return value >= INT64_MIN && value <= INT64_MAX;
}, 'not a whole number in the bigint range');

export const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const isoTime = z.iso.datetime({ offset: true });

/** Ids sort by time and name a folder in the store: letters, digits and dashes only. */
export const SNAPSHOT_ID = /^[0-9A-Za-z][0-9A-Za-z-]{0,99}$/;
export const snapshotId = z.string().regex(SNAPSHOT_ID, 'not a snapshot id');

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'not a sha256 in hex');
