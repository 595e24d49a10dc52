import type { DetectorName } from '../../core/anonymise/detectors/detector-names.js';

/** The `allow` option of rules that export values (or parts of them) as they are. */
export interface AllowOption {
  /**
   * Detectors whose finds this column may publish, e.g. `['person-name']` for public film credits.
   * Export-time verification still checks the column for everything else; the list is recorded in
   * the manifest. Names: email, phone, payment-card, iban, national-id, ip-address,
   * street-address, person-name.
   */
  readonly allow?: readonly DetectorName[];
}
