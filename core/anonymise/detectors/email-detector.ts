import { type Detector, matchAll } from './detector.js';

// A local part, an @, and a domain with a dotted alphabetic TLD: `name@host` without a TLD
// (`git@github`) and `@mentions` do not count.
const EMAIL =
  /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])/g;

/** Email addresses: any address at any domain (the reserved example domains too). */
export const emailDetector: Detector = {
  name: 'email',
  find(text, facts, into) {
    if (!facts.at) return;
    matchAll(EMAIL, text, 'email', into, (match) => ({
      start: match.index,
      end: match.index + match[0].length,
    }));
  },
};
