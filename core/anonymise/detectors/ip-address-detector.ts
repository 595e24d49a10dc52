import { isIP } from 'node:net';
import { type Detector, matchAll } from './detector.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// Four octets standing alone: not part of a longer dotted number (an OID, a five-part version).
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, 'g');
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?![\w:])/g;
/** `v1.2.3.4`, `version 1.2.3.4`: a version, not an address. */
const VERSION_BEFORE = /(?:\bv|\bver(?:sion)?\.?\s*)$/i;

/**
 * IPv4 and IPv6 addresses, except the ones that name no one: unspecified, loopback, broadcast
 * and netmask-like values, and four-part version numbers.
 */
export const ipAddressDetector: Detector = {
  name: 'ip-address',
  find(text, facts, into) {
    if (facts.digits >= 4 && text.includes('.')) {
      matchAll(IPV4, text, 'ip-address', into, (match) => {
        const first = Number.parseInt(match[0], 10);
        if (first === 0 || first === 127 || first === 255) return null;
        if (VERSION_BEFORE.test(text.slice(Math.max(0, match.index - 10), match.index))) return null;
        return { start: match.index, end: match.index + match[0].length };
      });
    }
    if (facts.colon) {
      matchAll(IPV6, text, 'ip-address', into, (match) => {
        const candidate = match[0];
        if (isIP(candidate) !== 6 || /^[0:]*:1?$/.test(candidate)) return null;
        // `12:30:45` and other colon-separated numbers are not written with a double colon or hex.
        if (!candidate.includes('::') && candidate.split(':').length < 8) return null;
        return { start: match.index, end: match.index + candidate.length };
      });
    }
  },
};
