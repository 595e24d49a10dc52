import { UsageError } from '../errors.js';
import type { ColumnTreatment } from './anonymise-config.js';
import { DETECTOR_LABELS, type DetectorName } from './detectors/detector-names.js';
import type { VerificationHit } from './export-verification.js';

/** The rule a column of such values usually wants. */
const WHOLE_VALUE_RULES: Readonly<Record<DetectorName, string>> = {
  email: "fake('internet.email')",
  phone: "fake('phone.number', { args: { style: 'international' } })",
  'payment-card': "fake('finance.creditCardNumber')",
  iban: "fake('finance.iban')",
  'national-id': "hash({ format: 'hex', length: 12 })",
  'ip-address': "fake('internet.ipv4')",
  'street-address': "fake('location.streetAddress')",
  'person-name': "fake('person.fullName')",
  username: "fake('internet.username')",
  city: "fake('location.city')",
  postcode: "fake('location.zipCode')",
};

/**
 * Export-time verification found personal data in values about to be published (strict mode): the
 * export stops, its files are removed and `latest` does not move. Names each column, detector,
 * count and a redacted example, with the rule to add; never a value.
 */
export class PersonalDataFoundError extends UsageError {
  override name = 'PersonalDataFoundError';

  constructor(
    readonly hits: readonly VerificationHit[],
    fixes: ReadonlyMap<string, string>,
  ) {
    const columns = [...new Set(hits.map((hit) => hit.column))];
    const lines = columns.map((column) => {
      const found = hits
        .filter((hit) => hit.column === column)
        .map(
          (hit) =>
            `${count(hit.values)} of ${count(hit.checked)} values contain ${DETECTOR_LABELS[hit.detector]} (${hit.detector}), e.g. ${hit.example}`,
        );
      return `  ${column}: ${found.join('; ')}\n      ${fixes.get(column) ?? ''}`;
    });
    super(
      `Export-time verification stopped the export: personal data in ${columns.length} column${columns.length === 1 ? '' : 's'} about to be published. Nothing was published and \`latest\` did not move.\n${lines.join('\n')}`,
      {
        hint: 'Add these rules under anonymise.rules in devsnap.config.ts (scrub() replaces only the personal parts of a text); allow a detector only for data that may be published.',
      },
    );
  }
}

/** The config line that fixes a column's hits, given how the column is treated now. */
export function verificationFix(
  column: string,
  treatment: ColumnTreatment,
  hits: readonly VerificationHit[],
  json: boolean,
): string {
  const detectors = [...new Set(hits.map((hit) => hit.detector))];
  const allowList = (existing: readonly string[] = []) =>
    `allow: [${[...new Set([...existing, ...detectors])].map((name) => `'${name}'`).join(', ')}]`;
  const first = hits[0];
  const rule = !json && hits.length === 1 && first?.whole ? WHOLE_VALUE_RULES[first.detector] : 'scrub()';
  if (treatment.kind === 'none') {
    return `'${column}': ${rule}, // or keep('why it may be published', { ${allowList()} })`;
  }
  const current = treatment.rule;
  if (current.keepReason !== undefined) {
    return `'${column}': ${rule}, // or keep(${JSON.stringify(current.keepReason)}, { ${allowList(current.allow)} }) if it may be published`;
  }
  if (current.kind === 'jsonPaths') {
    return `'${column}': add the paths that hold it to its jsonPaths({ … }), or use scrub(); or jsonPaths({ … }, { ${allowList(current.allow)} })`;
  }
  return `'${column}': ${current.describe()} publishes some values as they are; use ${rule}, or give it { ${allowList(current.allow)} }`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}
