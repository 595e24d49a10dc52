import type {
  ArrayValue,
  ColumnMetadata,
  SqlParameter as DataApiParameter,
  Field,
} from '@aws-sdk/client-rds-data';
import { replacePlaceholders } from '../sql/sql-parser.js';
import type { SqlParameter } from './queryable.js';

/**
 * Decodes one Data API field the way node-postgres decodes the same column, so catalog rows read
 * alike through both sources: int2/int4/oid and floats as numbers, bool as boolean, bytea as a
 * Buffer, arrays as arrays, json/jsonb parsed; int8 and numeric stay text (the source asks for
 * longs and decimals as strings, so nothing past 2^53 is rounded). Dates and times stay text.
 */
export function decodeField(field: Field, column?: ColumnMetadata): unknown {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) {
    const type = column?.typeName?.toLowerCase();
    return type === 'json' || type === 'jsonb' ? JSON.parse(field.stringValue) : field.stringValue;
  }
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue);
  if (field.arrayValue !== undefined) return decodeArray(field.arrayValue);
  return null;
}

function decodeArray(value: ArrayValue): unknown[] {
  return (
    value.arrayValues?.map((item) => (item === null ? null : decodeArray(item))) ??
    value.stringValues ??
    value.longValues ??
    value.doubleValues ??
    value.booleanValues ??
    []
  );
}

/** A text-only column: the source casts what it streams to text, so only strings and NULLs arrive. */
export function fieldText(field: Field | undefined): string | null {
  if (field === undefined || field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  // Only reached if a column was not cast to text; keep its value rather than lose it.
  const value = decodeField(field);
  return value === null ? null : String(value);
}

/** A scalar parameter as a typed Data API parameter (the API has no array parameters). */
export function toDataApiParameter(name: string, value: SqlParameter): DataApiParameter {
  if (value === null) return { name, value: { isNull: true } };
  if (typeof value === 'boolean') return { name, value: { booleanValue: value } };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value)
      ? { name, value: { longValue: value } }
      : { name, value: { doubleValue: value } };
  }
  return { name, value: { stringValue: value } };
}

/**
 * `$1…$n` (node-postgres) to `:p1…:pn` (Data API) outside literals and comments, with the
 * parameters named to match.
 */
export function toNamedParameters(
  sql: string,
  params: readonly SqlParameter[],
): { sql: string; params: Record<string, SqlParameter> } {
  const named = replacePlaceholders(sql, 'positional', (placeholder) => `:p${placeholder.slice(1)}`);
  return { sql: named, params: Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value])) };
}
