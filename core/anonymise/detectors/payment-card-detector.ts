import { type Detector, matchAll } from './detector.js';

/**
 * A card number written as cards are: 13–19 digits in one run, or in the groups issuers print
 * (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4) with one separator throughout. The whole number must
 * stand alone — no letter, digit or hyphen-joined digits on either side — so digits from
 * unrelated tokens (`item-42-<md5 hex>`, a hex digest, a version) never add up to a number.
 */
const CARD =
  /(?<![\w.-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\w]|[.-]\d)/g;

/** Payment card numbers: an issuer's prefix and a valid Luhn check digit. */
export const paymentCardDetector: Detector = {
  name: 'payment-card',
  find(text, facts, into) {
    if (facts.digits < 13) return;
    matchAll(CARD, text, 'payment-card', into, (match) =>
      isCardNumber(match[0].replace(/[ -]/g, ''))
        ? { start: match.index, end: match.index + match[0].length }
        : null,
    );
  },
};

/** 13–19 digits, a known issuer prefix and a valid Luhn check digit. */
export function isCardNumber(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  if (!/^(4|5[1-5]|2[2-7]|3[47]|6(011|5|4[4-9])|3(0[0-5]|[68])|35)/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
