import { INT64_MAX, INT64_MIN, type Int64Value } from './int64-value.js';

/**
 * PostgreSQL date and timestamp text (DateStyle ISO, TimeZone UTC) to and from the integers Arrow
 * stores: days and microseconds since 1970-01-01. Integer arithmetic only — going through `Date`
 * would lose microseconds, BC years and years beyond 9999.
 *
 * PostgreSQL's own sentinels for ±infinity are the extremes of its storage integers; we keep
 * that convention in Arrow (int32 for dates, int64 for timestamps).
 */

const DATE_INFINITY = 2147483647;
const DATE_MINUS_INFINITY = -2147483648;

const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_DAY_BIG = 86_400_000_000n;
// Below this many seconds from 1970 (about ±285 years) microseconds are safe integers.
const SAFE_SECONDS = 9_000_000_000;

/** Days since 1970-01-01 of a `date` text value (`2020-01-02`, `0044-03-15 BC`, `infinity`). */
export function parseDateText(text: string): number {
  if (text === 'infinity') return DATE_INFINITY;
  if (text === '-infinity') return DATE_MINUS_INFINITY;
  const yearEnd = text.indexOf('-', 1);
  if (yearEnd < 4 || text.charCodeAt(yearEnd + 3) !== 0x2d) throw badText('date', text);
  const year = digits(text, 0, yearEnd, 'date');
  const month = digits(text, yearEnd + 1, yearEnd + 3, 'date');
  const day = digits(text, yearEnd + 4, yearEnd + 6, 'date');
  const rest = text.length - (yearEnd + 6);
  if (rest !== 0 && !(rest === 3 && text.endsWith(' BC'))) throw badText('date', text);
  return daysFromCivil(rest === 0 ? year : 1 - year, month, day);
}

export function formatDateText(days: number): string {
  if (days === DATE_INFINITY) return 'infinity';
  if (days === DATE_MINUS_INFINITY) return '-infinity';
  return formatCivilDate(days);
}

/**
 * Microseconds since 1970-01-01 00:00:00 UTC of a `timestamp` or `timestamptz` text value,
 * e.g. `2020-01-02 03:04:05.123456`, `2020-01-02 03:04:05+00`, `0001-01-01 00:00:00+00 BC`.
 * A number when it is a safe integer, else a bigint.
 */
export function parseTimestampText(text: string): Int64Value {
  return parseCommonTimestamp(text) ?? parseAnyTimestamp(text);
}

/**
 * The shape nearly every value has — `YYYY-MM-DD HH:MM:SS[.ffffff][+00]`, years 1000 to 9999 —
 * parsed without any allocation (this runs once per timestamp exported). Undefined for
 * anything else.
 */
function parseCommonTimestamp(text: string): number | undefined {
  const length = text.length;
  if (
    length < 19 ||
    text.charCodeAt(4) !== 0x2d ||
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x20 ||
    text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a
  ) {
    return undefined;
  }
  let end = length;
  if (text.charCodeAt(length - 3) === 0x2b && text.charCodeAt(length - 2) === 0x30) {
    if (text.charCodeAt(length - 1) !== 0x30) return undefined;
    end -= 3;
  }
  let fraction = 0;
  if (end > 19) {
    if (text.charCodeAt(19) !== 0x2e || end > 26 || end === 20) return undefined;
    for (let i = 20; i < 26; i++) {
      const digit = i < end ? text.charCodeAt(i) - 0x30 : 0;
      if (digit < 0 || digit > 9) return undefined;
      fraction = fraction * 10 + digit;
    }
  }
  const year = fourDigits(text, 0);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if ((year | month | day | hour | minute | second) < 0 || year < 1000) return undefined;
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return seconds > -SAFE_SECONDS && seconds < SAFE_SECONDS ? seconds * 1_000_000 + fraction : undefined;
}

/** Two decimal digits at `at`, or -1. */
function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 0x30;
  const b = text.charCodeAt(at + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function fourDigits(text: string, at: number): number {
  const high = twoDigits(text, at);
  const low = twoDigits(text, at + 2);
  return high < 0 || low < 0 ? -1 : high * 100 + low;
}

function parseAnyTimestamp(text: string): Int64Value {
  if (text === 'infinity') return INT64_MAX;
  if (text === '-infinity') return INT64_MIN;
  const yearEnd = text.indexOf('-', 1);
  const t = yearEnd + 6;
  if (
    yearEnd < 4 ||
    text.charCodeAt(yearEnd + 3) !== 0x2d ||
    text.charCodeAt(t) !== 0x20 ||
    text.charCodeAt(t + 3) !== 0x3a ||
    text.charCodeAt(t + 6) !== 0x3a
  ) {
    throw badText('timestamp', text);
  }
  const year = digits(text, 0, yearEnd, 'timestamp');
  const month = digits(text, yearEnd + 1, yearEnd + 3, 'timestamp');
  const day = digits(text, yearEnd + 4, t, 'timestamp');
  const hour = digits(text, t + 1, t + 3, 'timestamp');
  const minute = digits(text, t + 4, t + 6, 'timestamp');
  const second = digits(text, t + 7, t + 9, 'timestamp');
  let i = t + 9;
  let fraction = 0;
  if (text.charCodeAt(i) === 0x2e) {
    const start = ++i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    if (i === start || i - start > 6) throw badText('timestamp', text);
    fraction = digits(text, start, i, 'timestamp') * 10 ** (6 - (i - start));
  }
  let offsetSeconds = 0;
  const sign = text.charCodeAt(i);
  if (sign === 0x2b || sign === 0x2d) {
    // ±HH[:MM[:SS]]; output under TimeZone UTC is always +00, other offsets are accepted anyway.
    let offset = digits(text, i + 1, i + 3, 'timestamp') * 3600;
    i += 3;
    if (text.charCodeAt(i) === 0x3a) {
      offset += digits(text, i + 1, i + 3, 'timestamp') * 60;
      i += 3;
      if (text.charCodeAt(i) === 0x3a) {
        offset += digits(text, i + 1, i + 3, 'timestamp');
        i += 3;
      }
    }
    offsetSeconds = sign === 0x2b ? offset : -offset;
  }
  let astronomicalYear = year;
  if (i !== text.length) {
    if (i + 3 !== text.length || !text.endsWith(' BC')) throw badText('timestamp', text);
    astronomicalYear = 1 - year;
  }
  const seconds =
    daysFromCivil(astronomicalYear, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  if (seconds > -SAFE_SECONDS && seconds < SAFE_SECONDS) return seconds * 1_000_000 + fraction;
  const micros = BigInt(seconds) * 1_000_000n + BigInt(fraction);
  if (micros >= INT64_MAX || micros <= INT64_MIN) {
    throw new RangeError(`timestamp ${text} is beyond the microsecond range of a Parquet timestamp`);
  }
  return micros;
}

/** Formats microseconds since 1970 the way PostgreSQL prints them (with `+00` when `withZone`). */
export function formatTimestampText(micros: Int64Value, withZone: boolean): string {
  let days: number;
  let microsOfDay: number;
  if (typeof micros === 'number') {
    days = Math.floor(micros / MICROS_PER_DAY);
    microsOfDay = micros - days * MICROS_PER_DAY;
  } else {
    if (micros === INT64_MAX) return 'infinity';
    if (micros === INT64_MIN) return '-infinity';
    let bigDays = micros / MICROS_PER_DAY_BIG;
    if (bigDays * MICROS_PER_DAY_BIG > micros) bigDays -= 1n;
    days = Number(bigDays);
    microsOfDay = Number(micros - bigDays * MICROS_PER_DAY_BIG);
  }
  const secondsOfDay = Math.floor(microsOfDay / 1_000_000);
  const fraction = microsOfDay - secondsOfDay * 1_000_000;
  const hour = Math.floor(secondsOfDay / 3600);
  const minute = Math.floor((secondsOfDay % 3600) / 60);
  const second = secondsOfDay % 60;
  let time = `${pad2(hour)}:${pad2(minute)}:${pad2(second)}`;
  if (fraction !== 0) time += `.${String(fraction).padStart(6, '0').replace(TRAILING_ZEROS, '')}`;
  const date = formatCivilDate(days);
  // PostgreSQL prints the era after the zone: `0001-01-01 00:00:00+00 BC`.
  if (date.endsWith(' BC')) return `${date.slice(0, -3)} ${time}${withZone ? '+00' : ''} BC`;
  return `${date} ${time}${withZone ? '+00' : ''}`;
}

const TRAILING_ZEROS = /0+$/;

function formatCivilDate(days: number): string {
  const { year, month, day } = civilDate(days, { year: 0, month: 0, day: 0 });
  const text = `-${pad2(month)}-${pad2(day)}`;
  return year > 0
    ? `${String(year).padStart(4, '0')}${text}`
    : `${String(1 - year).padStart(4, '0')}${text} BC`;
}

/**
 * Fills `parts` with the proleptic Gregorian date (astronomical year: 0 is 1 BC) of a day count
 * since 1970-01-01, as PostgreSQL uses for all dates (Hinnant's civil_from_days). Takes the
 * object to fill so hot loops allocate nothing.
 */
export function civilDate(
  days: number,
  parts: { year: number; month: number; day: number },
): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  parts.day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  parts.month = mp < 10 ? mp + 3 : mp - 9;
  parts.year = yearOfEra + era * 400 + (parts.month <= 2 ? 1 : 0);
  return parts;
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function digits(text: string, start: number, end: number, type: string): number {
  if (end > text.length || start >= end) throw badText(type, text);
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) throw badText(type, text);
    value = value * 10 + c - 0x30;
  }
  return value;
}

function badText(type: string, text: string): RangeError {
  return new RangeError(`"${text}" is not a ${type} in PostgreSQL ISO output format`);
}
