import { didYouMean } from '../../config/did-you-mean.js';

/** Detectors that recognise personal data by its form (patterns, checksums, name lists). */
export const PATTERN_DETECTOR_NAMES = [
  'email',
  'phone',
  'payment-card',
  'iban',
  'national-id',
  'ip-address',
  'street-address',
  'person-name',
] as const;

/**
 * The detectors export-time verification and `scrub()` use, by their stable names: configs name
 * them in `allow` (`keep('public film credits', { allow: ['person-name'] })`) and manifests record
 * them, so a name never changes once released. `username`, `city` and `postcode` have no pattern:
 * they find the source's own values of columns whose rules say they hold them (the export's
 * known-value index), as the names, emails, phones and streets of such columns are found too.
 */
export const DETECTOR_NAMES = [...PATTERN_DETECTOR_NAMES, 'username', 'city', 'postcode'] as const;

export type DetectorName = (typeof DETECTOR_NAMES)[number];
export type PatternDetectorName = (typeof PATTERN_DETECTOR_NAMES)[number];

/** Completes "contain …" in messages. */
export const DETECTOR_LABELS: Readonly<Record<DetectorName, string>> = {
  email: 'an email address',
  phone: 'a phone number',
  'payment-card': 'a payment card number',
  iban: 'an IBAN',
  'national-id': 'a national id number',
  'ip-address': 'an IP address',
  'street-address': 'a street address',
  'person-name': "a person's name",
  username: 'a username of the source',
  city: "a city of the source's addresses",
  postcode: "a postcode of the source's addresses",
};

export function isDetectorName(name: unknown): name is DetectorName {
  return typeof name === 'string' && (DETECTOR_NAMES as readonly string[]).includes(name);
}

/**
 * Problems with an `allow` list, one line each (unknown names with a did-you-mean), for the rule's
 * validate(): `rule` is how the message names the option, e.g. `keep(…, { allow })`.
 */
export function allowProblems(allow: unknown, rule: string): string[] {
  if (allow === undefined) return [];
  if (!Array.isArray(allow))
    return [`${rule}: allow must be a list of detector names (${DETECTOR_NAMES.join(', ')})`];
  return allow
    .filter((name) => !isDetectorName(name))
    .map(
      (name) =>
        `${rule}: unknown detector ${JSON.stringify(name)} in allow${typeof name === 'string' ? didYouMean(name, DETECTOR_NAMES) : ''}; detectors are ${DETECTOR_NAMES.join(', ')}`,
    );
}
