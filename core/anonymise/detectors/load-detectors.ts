import type { Detector } from './detector.js';
import { DETECTOR_NAMES, type DetectorName } from './detector-names.js';
import { emailDetector } from './email-detector.js';
import { ibanDetector } from './iban-detector.js';
import { ipAddressDetector } from './ip-address-detector.js';
import { nationalIdDetector } from './national-id-detector.js';
import { paymentCardDetector } from './payment-card-detector.js';
import { personNameDetector } from './person-name-detector.js';
import { PersonalDataScanner } from './personal-data-scanner.js';
import { phoneDetector } from './phone-detector.js';
import { streetAddressDetector } from './street-address-detector.js';

let loading: Promise<ReadonlyMap<DetectorName, Detector>> | undefined;

/**
 * Every detector, by name. Their libraries and dictionaries (libphonenumber-js, ibantools, stdnum,
 * faker's name lists) load here, once per process and only when something verifies or scrubs.
 */
export function loadDetectors(): Promise<ReadonlyMap<DetectorName, Detector>> {
  loading ??= (async () => {
    const loaded = await Promise.all([
      emailDetector,
      phoneDetector(),
      paymentCardDetector,
      ibanDetector(),
      nationalIdDetector(),
      ipAddressDetector,
      streetAddressDetector,
      personNameDetector(),
    ]);
    const byName = new Map(loaded.map((detector) => [detector.name, detector]));
    for (const name of DETECTOR_NAMES)
      if (!byName.has(name)) throw new Error(`detector ${name} did not load`);
    return byName;
  })();
  return loading;
}

/** A scanner running every detector (the classifier's), or every one but those a rule allows. */
export async function allDetectorsScanner(allow: readonly string[] = []): Promise<PersonalDataScanner> {
  return new PersonalDataScanner(
    [...(await loadDetectors()).values()].filter((d) => !allow.includes(d.name)),
  );
}
