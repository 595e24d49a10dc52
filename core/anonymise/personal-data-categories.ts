import type { AnonymiseColumn, TypeFamily } from './anonymiser.js';

/** A kind of personal data the classifier recognises, and the rule `devsnap init` suggests for it. */
export interface PersonalDataCategory {
  readonly id: string;
  /** Completes "looks like …" in the gate's reasons. */
  readonly label: string;
  /** Column types that can hold it: a boolean `email_verified` is not an email address. */
  readonly families: readonly TypeFamily[];
  /** Rule source text for a column of this category. */
  suggest(column: Pick<AnonymiseColumn, 'family' | 'column' | 'unique'>): string;
}

const TEXTUAL: readonly TypeFamily[] = ['text', 'other'];
const NUMBERISH: readonly TypeFamily[] = ['text', 'other', 'integer', 'numeric'];
const DATES: readonly TypeFamily[] = ['date', 'timestamp', 'timestamptz', 'text', 'integer'];

const nullOr = (column: { column: { nullable: boolean } }, otherwise: string) =>
  column.column.nullable ? 'nullValue()' : otherwise;

/** For a column whose type the category's usual fake does not fit. */
function byType(column: Pick<AnonymiseColumn, 'family' | 'column'>, text: string): string {
  switch (column.family) {
    case 'integer':
    case 'numeric':
      return `hash({ format: 'int', min: 1, max: 2147483647 })`;
    case 'uuid':
      return `hash({ format: 'uuid' })`;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return 'dateShift({ days: 180 })';
    case 'bytea':
    case 'geometry':
    case 'float':
      return nullOr(column, `keep('explain why this is not personal')`);
    default:
      return text;
  }
}

const category = (
  id: string,
  label: string,
  families: readonly TypeFamily[],
  suggestText: (column: Pick<AnonymiseColumn, 'family' | 'column' | 'unique'>) => string,
): PersonalDataCategory => ({
  id,
  label,
  families,
  suggest: (column) => byType(column, suggestText(column)),
});

export const CATEGORIES = {
  email: category('email', 'an email address', TEXTUAL, () => `fake('internet.email')`),
  phone: category(
    'phone',
    'a phone number',
    NUMBERISH,
    () => `fake('phone.number', { args: { style: 'international' } })`,
  ),
  firstName: category('first-name', 'a first name', TEXTUAL, () => `fake('person.firstName')`),
  lastName: category('last-name', 'a last name', TEXTUAL, () => `fake('person.lastName')`),
  middleName: category('middle-name', 'a middle name', TEXTUAL, () => `fake('person.middleName')`),
  fullName: category('full-name', "a person's name", TEXTUAL, () => `fake('person.fullName')`),
  username: category('username', 'a username', TEXTUAL, () => `fake('internet.username')`),
  streetAddress: category(
    'street-address',
    'a street address',
    TEXTUAL,
    () => `fake('location.streetAddress')`,
  ),
  secondaryAddress: category(
    'secondary-address',
    'an address line',
    TEXTUAL,
    () => `fake('location.secondaryAddress')`,
  ),
  postcode: category('postcode', 'a postcode', NUMBERISH, () => `fake('location.zipCode')`),
  birthDate: category('birth-date', 'a birth date', DATES, (column) =>
    column.family === 'text' ? `fake('date.birthdate')` : 'dateShift({ days: 180 })',
  ),
  nationalId: category(
    'national-id',
    'a national id, passport or tax number',
    NUMBERISH,
    () => `hash({ format: 'hex', length: 12 })`,
  ),
  bankAccount: category(
    'bank-account',
    'a bank account number or IBAN',
    NUMBERISH,
    () => `fake('finance.iban')`,
  ),
  cardNumber: category(
    'card-number',
    'a payment card number',
    NUMBERISH,
    () => `fake('finance.creditCardNumber')`,
  ),
  cardSecurity: category(
    'card-security',
    'a card security code',
    NUMBERISH,
    () => `fake('finance.creditCardCVV')`,
  ),
  ipAddress: category('ip-address', 'an IP address', ['inet', ...TEXTUAL], () => `fake('internet.ipv4')`),
  deviceId: category('device-id', 'a device identifier', ['inet', ...TEXTUAL], () => `fake('internet.mac')`),
  password: category('password', 'a password or password hash', [...TEXTUAL, 'bytea'], (column) =>
    nullOr(column, `hash({ format: 'hex' })`),
  ),
  secret: category('secret', 'a token, key or secret', [...TEXTUAL, 'bytea', 'uuid'], (column) =>
    nullOr(column, `hash({ format: 'hex' })`),
  ),
  geolocation: {
    id: 'geolocation',
    label: 'a geolocation',
    families: ['float', 'numeric', 'geometry', 'text', 'json', 'other'],
    suggest: (column) =>
      (['float', 'numeric'].includes(column.family) ? geolocationSuggestion(column.column.name) : null) ??
      nullOr(column, `keep('explain why this is not personal')`),
  },
  special: category(
    'special-category',
    'special-category data (health, religion, ethnicity)',
    [...TEXTUAL, 'json'],
    (column) => nullOr(column, `constant('redacted')`),
  ),
  city: category('city', 'a city', TEXTUAL, () => `fake('location.city')`),
  // Keeps the text readable and replaces only the personal parts, with the column rules' fakes.
  freeText: category('free-text', 'free text', [...TEXTUAL, 'json'], () => 'scrub()'),
} as const satisfies Record<string, PersonalDataCategory>;

function geolocationSuggestion(name: string): string | null {
  if (/lat/i.test(name)) return `fake('location.latitude')`;
  if (/lo?ng/i.test(name)) return `fake('location.longitude')`;
  return null;
}
