import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  DateUnit,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Schema,
  TimestampMicrosecond,
  TimeUnit,
  Type,
  Utf8,
} from 'apache-arrow';
import type { ColumnInfo } from '../schema/schema-model.js';

/**
 * How each PostgreSQL type is stored in Arrow/Parquet. Types with an exact, commonly understood
 * Arrow equivalent get it, so DuckDB or pandas read real numbers and timestamps; every other type
 * (numeric, text-likes, json, time, interval, network types, enums, ranges, all arrays, unknown
 * types) keeps its PostgreSQL text output verbatim in a Utf8 column, which COPY restores exactly.
 */
export type PgArrowKind =
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'bool'
  | 'date32'
  | 'timestamp'
  | 'timestamptz'
  | 'binary'
  | 'utf8';

/** The parts of a column the codec needs. */
export type CodecColumn = Pick<ColumnInfo, 'name' | 'dataType' | 'baseType' | 'isArray'>;

/** Field metadata key holding the declared PostgreSQL type, for readers other than devsnap. */
export const PG_TYPE_METADATA_KEY = 'devsnap.pg_type';

const KIND_BY_BASE_TYPE: Readonly<Record<string, PgArrowKind>> = {
  int2: 'int16',
  int4: 'int32',
  int8: 'int64',
  float4: 'float32',
  float8: 'float64',
  bool: 'bool',
  date: 'date32',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  bytea: 'binary',
};

const TYPE_NAMES: Readonly<Record<PgArrowKind, string>> = {
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  float32: 'float32',
  float64: 'float64',
  bool: 'bool',
  date32: 'date32',
  timestamp: 'timestamp[us]',
  timestamptz: 'timestamp[us, UTC]',
  binary: 'binary',
  utf8: 'utf8',
};

export function pgArrowKind(column: Pick<CodecColumn, 'baseType' | 'isArray'>): PgArrowKind {
  if (column.isArray) return 'utf8';
  return KIND_BY_BASE_TYPE[column.baseType] ?? 'utf8';
}

/** Short Arrow type name for the manifest, e.g. `int64`, `utf8`, `timestamp[us, UTC]`. */
export function arrowTypeName(column: Pick<CodecColumn, 'baseType' | 'isArray'>): string {
  return TYPE_NAMES[pgArrowKind(column)];
}

export function arrowDataType(kind: PgArrowKind): DataType {
  switch (kind) {
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'date32':
      return new DateDay();
    case 'timestamp':
      return new TimestampMicrosecond();
    case 'timestamptz':
      return new TimestampMicrosecond('UTC');
    case 'binary':
      return new Binary();
    case 'utf8':
      return new Utf8();
  }
}

function arrowField(column: CodecColumn): Field {
  return new Field(
    column.name,
    arrowDataType(pgArrowKind(column)),
    true,
    new Map([[PG_TYPE_METADATA_KEY, column.dataType]]),
  );
}

export function arrowSchema(columns: readonly CodecColumn[]): Schema {
  return new Schema(columns.map(arrowField));
}

/**
 * The kind of a column as found in a Parquet file. The decoder formats values by what the file
 * holds, so a file stays readable whatever the current schema model says. Null for Arrow types
 * devsnap never writes.
 */
export function pgArrowKindOfArrowType(type: DataType): PgArrowKind | null {
  switch (type.typeId) {
    case Type.Int:
    case Type.Int16:
    case Type.Int32:
    case Type.Int64: {
      const int = type as Int16 | Int32 | Int64;
      if (!int.isSigned) return null;
      return int.bitWidth === 16
        ? 'int16'
        : int.bitWidth === 32
          ? 'int32'
          : int.bitWidth === 64
            ? 'int64'
            : null;
    }
    case Type.Float:
    case Type.Float32:
    case Type.Float64: {
      const precision = (type as Float32 | Float64).precision;
      return precision === 1 ? 'float32' : precision === 2 ? 'float64' : null;
    }
    case Type.Bool:
      return 'bool';
    case Type.Date:
    case Type.DateDay:
      return (type as DateDay).unit === DateUnit.DAY ? 'date32' : null;
    case Type.Timestamp:
    case Type.TimestampMicrosecond: {
      const timestamp = type as TimestampMicrosecond;
      if (timestamp.unit !== TimeUnit.MICROSECOND) return null;
      return timestamp.timezone ? 'timestamptz' : 'timestamp';
    }
    case Type.Binary:
      return 'binary';
    case Type.Utf8:
      return 'utf8';
    default:
      return null;
  }
}

/** Formats a float8 the way PostgreSQL reads it back exactly (`String(-0)` would lose the sign). */
export function formatFloat64(value: number): string {
  return value === 0 && 1 / value < 0 ? '-0' : String(value);
}

/** Shortest text that reads back as the same float4 (PostgreSQL prints the same digits). */
export function formatFloat32(value: number): string {
  if (value === 0) return 1 / value < 0 ? '-0' : '0';
  if (!Number.isFinite(value)) return String(value);
  for (let precision = 1; precision < 9; precision++) {
    const text = value.toPrecision(precision);
    if (Math.fround(+text) === value) return String(+text);
  }
  // Nine significant digits always identify a float4; the double's shortest form is exact too.
  return String(value);
}

/** Parses float4/float8 text (`NaN`, `Infinity`, `-Infinity` and `-0` included). */
export function parseFloatText(text: string): number {
  const value = +text;
  if (Number.isNaN(value) && text !== 'NaN') throw new RangeError(`"${text}" is not a float`);
  return value;
}

const FLOAT32 = new Float32Array(1);
const FLOAT32_BITS = new Uint32Array(FLOAT32.buffer);

/**
 * Parses float4 text to the float4 PostgreSQL's strtof gives. Going through a double and
 * rounding again (`Math.fround(+text)`) is right except when the double lands exactly halfway
 * between two float4s while the decimal itself was not halfway: then the decimal decides.
 */
export function parseFloat4Text(text: string): number {
  const double = parseFloatText(text);
  const single = Math.fround(double);
  if (single === double || !Number.isFinite(single)) return single;
  FLOAT32[0] = single;
  FLOAT32_BITS[0]! += Math.abs(double) > Math.abs(single) ? 1 : -1;
  const neighbour = FLOAT32[0]!;
  if (double !== (single + neighbour) / 2) return single;
  const side = compareDecimalToDouble(text, double);
  if (side === 0) return single;
  // The decimal lies beyond the halfway point on the neighbour's side, or short of it on ours.
  const beyond = side > 0 === double > 0;
  return beyond === Math.abs(neighbour) > Math.abs(single) ? neighbour : single;
}

/** Sign of (exact value of `text`) − `value`, in exact integer arithmetic. */
function compareDecimalToDouble(text: string, value: number): number {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return 0;
  const fraction = match[3] ?? '';
  let decimal = BigInt(`${match[2] ?? ''}${fraction}` || '0');
  const decimalExponent = Number(match[4] ?? 0) - fraction.length;
  // value = mantissa × 2^binaryExponent exactly.
  const bits = new DataView(new Float64Array([Math.abs(value)]).buffer).getBigUint64(0, true);
  const biased = Number(bits >> 52n);
  let mantissa = bits & 0xfffffffffffffn;
  if (biased > 0) mantissa |= 1n << 52n;
  const binaryExponent = Math.max(biased, 1) - 1075;
  let binary = mantissa;
  if (decimalExponent >= 0) decimal *= 10n ** BigInt(decimalExponent);
  else binary *= 10n ** BigInt(-decimalExponent);
  if (binaryExponent >= 0) binary <<= BigInt(binaryExponent);
  else decimal <<= BigInt(-binaryExponent);
  const magnitude = decimal > binary ? 1 : decimal < binary ? -1 : 0;
  return value < 0 ? -magnitude : magnitude;
}

/** Bytes of a bytea in hex output format (`\x0a0b`). */
export function parseByteaText(text: string): Buffer {
  if (!text.startsWith('\\x') || (text.length & 1) !== 0) throw notHexBytea(text);
  const bytes = Buffer.from(text.slice(2), 'hex');
  if (bytes.length * 2 !== text.length - 2) throw notHexBytea(text);
  return bytes;
}

function notHexBytea(text: string): RangeError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return new RangeError(`"${shown}" is not a bytea in hex output format (bytea_output = hex)`);
}
