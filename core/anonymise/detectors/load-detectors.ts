import type { Detector } from './detector.js';
import { PATTERN_DETECTOR_NAMES, type PatternDetectorName } from './detector-names.js';
import { emailDetector } from './email-detector.js';
import { ibanDetector } from './iban-detector.js';
import { ipAddressDetector } from './ip-address-detector.js';
import { nationalIdDetector } from './national-id-detector.js';
import { paymentCardDetector } from './payment-card-detector.js';
import { personNameDetector } from './person-name-detector.js';
import { PersonalDataScanner } from './personal-data-scanner.js';
import { phoneDetector } from './phone-detector.js';
import { streetAddressDetector } from './street-address-detector.js';

const loading = new Map<string, Promise<ReadonlyMap<PatternDetectorName, Detector>>>();

/**
 * Every detector, by name. Their libraries and dictionaries (libphonenumber-js, ibantools, stdnum,
 * faker's name lists) load here, once per process and only when something verifies or scrubs.
 */
export function loadDetectors(
  options: { readonly phoneRegions?: readonly string[] } = {},
): Promise<ReadonlyMap<PatternDetectorName, Detector>> {
  const regions = [...new Set(options.phoneRegions ?? [])].sort();
  let pending = loading.get(regions.join(','));
  if (pending) return pending;
  pending = (async () => {
    const loaded = await Promise.all([
      emailDetector,
      phoneDetector(regions),
      paymentCardDetector,
      ibanDetector(),
      nationalIdDetector(),
      ipAddressDetector,
      streetAddressDetector,
      personNameDetector(),
    ]);
    const byName = new Map(loaded.map((detector) => [detector.name as PatternDetectorName, detector]));
    for (const name of PATTERN_DETECTOR_NAMES)
      if (!byName.has(name)) throw new Error(`detector ${name} did not load`);
    return byName;
  })();
  loading.set(regions.join(','), pending);
  return pending;
}

/** A scanner running every detector (the classifier's), or every one but those a rule allows. */
export async function allDetectorsScanner(
  allow: readonly string[] = [],
  options: { readonly phoneRegions?: readonly string[] } = {},
): Promise<PersonalDataScanner> {
  return new PersonalDataScanner(
    [...(await loadDetectors(options)).values()].filter((d) => !allow.includes(d.name)),
  );
}
