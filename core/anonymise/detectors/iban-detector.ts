import { type Detector, matchAll } from './detector.js';

// A country code, two check digits and the account, electronic or printed in groups of four.
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![a-z0-9])/g;

/** IBANs whose length fits their country and whose mod-97 check holds (ibantools). */
export async function ibanDetector(): Promise<Detector> {
  const { countrySpecs, isValidIBAN } = await import('ibantools');
  return {
    name: 'iban',
    find(text, facts, into) {
      if (facts.digits < 8 || facts.uppercase < 2) return;
      matchAll(IBAN, text, 'iban', into, (match) => {
        const length = countrySpecs[match[0].slice(0, 2)]?.chars;
        if (!length) return null;
        // The pattern may run on into a following word: take exactly the country's length.
        let compact = '';
        let end = match.index;
        for (const char of match[0]) {
          end++;
          if (char === ' ') continue;
          compact += char;
          if (compact.length === length) break;
        }
        if (compact.length !== length || /[A-Za-z0-9]/.test(text[end] ?? '')) return null;
        return isValidIBAN(compact) ? { start: match.index, end } : null;
      });
    },
  };
}
