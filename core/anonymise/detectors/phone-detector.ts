import type { CountryCode } from 'libphonenumber-js/max';
import { type Detector, matchAll } from './detector.js';

/**
 * Regions whose national formats (no `+`) count: a number written without its country code is
 * read as these regions' numbers. International numbers (`+44 …`) count from every region.
 */
const NATIONAL_REGIONS: readonly CountryCode[] = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'NL', 'AU', 'IN', 'BR'];

// Only a cheap gate in front of libphonenumber, which decides: a `+`, or digits in groups.
const INTERNATIONAL = /(?<![\w+])\+\d[\d ().-]{5,20}\d(?!\w)/g;
const NATIONAL = /(?<![\w+.,/:-])\(?\d{1,5}\)?(?:[ .-]|\) ?)\d{2,5}(?:[ .-]\d{2,5}){0,3}(?![\w]|[.,/:-]\d)/g;
/** E.164 allows 15 digits, country code included: 16 grouped digits are a card, not a phone. */
const MAX_DIGITS = 15;
/** Dates and times are written in groups too. */
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})(?!\d)/;

/**
 * Phone numbers, as libphonenumber-js (Google's metadata, `max` set) validates them: every
 * `+`-prefixed valid number, and numbers written in groups that are valid in one of the common
 * regions. A bare run of digits without `+` is never taken for a phone number (ids, order numbers).
 */
export async function phoneDetector(): Promise<Detector> {
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
        const found = NATIONAL_REGIONS.some((region) => valid(candidate, region));
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
