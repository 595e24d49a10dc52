import type { CountryCode } from 'libphonenumber-js/max';
import { type Detector, matchAll } from './detector.js';

/**
 * Regions whose national formats (no `+`) always count: a number written without its country code
 * is read as these regions' numbers, and as those of `anonymise.phoneRegions`. International
 * numbers (`+44 …`) count from every region.
 */
export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = [
  'US',
  'GB',
  'DE',
  'FR',
  'ES',
  'IT',
  'NL',
  'AU',
  'IN',
  'BR',
];

// Only a cheap gate in front of libphonenumber, which decides: a `+`, or digits in groups.
const INTERNATIONAL = /(?<![\w+])\+\d[\d ().-]{5,20}\d(?!\w)/g;
// Groups after the first run to 8 digits: `07597 116141` (GB), `06-24770780` (NL).
const NATIONAL = /(?<![\w+.,/:-])\(?\d{1,5}\)?(?:[ .-]|\) ?)\d{2,8}(?:[ .-]\d{2,8}){0,3}(?![\w]|[.,/:-]\d)/g;
/** E.164 allows 15 digits, country code included: 16 grouped digits are a card, not a phone. */
const MAX_DIGITS = 15;
/** Dates and times are written in groups too. */
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})(?!\d)/;

/**
 * Phone numbers, as libphonenumber-js (Google's metadata, `max` set) validates them: every
 * `+`-prefixed valid number, and numbers written in groups that are valid in one of the common
 * regions or of `regions` (the config's `anonymise.phoneRegions`). A bare run of digits without
 * `+` is never taken for a phone number (ids, order numbers).
 */
export async function phoneDetector(regions: readonly string[] = []): Promise<Detector> {
  const national = [...new Set([...DEFAULT_PHONE_REGIONS, ...regions])] as CountryCode[];
  const { parsePhoneNumberFromString } = await import('libphonenumber-js/max');
  const valid = (candidate: string, region?: CountryCode): boolean => {
    try {
      return parsePhoneNumberFromString(candidate, region)?.isValid() === true;
    } catch {
      return false;
    }
  };
  return {
    name: 'phone',
    find(text, facts, into) {
      if (facts.digits < 7) return;
      if (text.includes('+')) {
        matchAll(INTERNATIONAL, text, 'phone', into, (match) =>
          digitCount(match[0]) <= MAX_DIGITS && valid(match[0])
            ? { start: match.index, end: match.index + match[0].length }
            : null,
        );
      }
      if (facts.digits < 9) return;
      matchAll(NATIONAL, text, 'phone', into, (match) => {
        const candidate = match[0];
        const digits = digitCount(candidate);
        if (DATE_LIKE.test(candidate) || digits < 9 || digits > MAX_DIGITS) return null;
        if (text[match.index - 1] === '+') return null;
        const found = national.some((region) => valid(candidate, region));
        return found ? { start: match.index, end: match.index + candidate.length } : null;
      });
    },
  };
}

function digitCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) count++;
  }
  return count;
}
