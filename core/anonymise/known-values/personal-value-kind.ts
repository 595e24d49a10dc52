import type { DetectorName } from '../detectors/detector-names.js';

/**
 * Kinds of personal value a column rule can say its column holds, so that export-time scrubbing
 * and verification look for the source's own values of that kind in free text.
 */
export const PERSONAL_VALUE_KINDS = [
  'given-name',
  'family-name',
  'full-name',
  'username',
  'email',
  'phone',
  'street',
  'city',
  'postcode',
] as const;

export type PersonalValueKind = (typeof PERSONAL_VALUE_KINDS)[number];

/** The detector name a find of this kind is reported (and allowed) under. */
export const KIND_DETECTOR: Readonly<Record<PersonalValueKind, DetectorName>> = {
  'given-name': 'person-name',
  'family-name': 'person-name',
  'full-name': 'person-name',
  username: 'username',
  email: 'email',
  phone: 'phone',
  street: 'street-address',
  city: 'city',
  postcode: 'postcode',
};

/**
 * Kinds written with capitals (`Leeds`, `Jane Smith`, `12 Mill Road`): such a value is found only
 * where the text writes it capitalised too, so `grace` and `reading` in prose are left alone.
 */
export const CAPITALISED_KINDS: ReadonlySet<PersonalValueKind> = new Set([
  'given-name',
  'family-name',
  'full-name',
  'street',
  'city',
]);

/** faker methods by the kind of value they make (fake() rules say what their column holds). */
const FAKER_METHOD_KINDS: Readonly<Record<string, PersonalValueKind>> = {
  'person.firstName': 'given-name',
  'person.middleName': 'given-name',
  'person.lastName': 'family-name',
  'person.fullName': 'full-name',
  'internet.username': 'username',
  'internet.userName': 'username',
  'internet.displayName': 'username',
  'internet.email': 'email',
  'internet.exampleEmail': 'email',
  'phone.number': 'phone',
  'location.streetAddress': 'street',
  'location.street': 'street',
  'location.city': 'city',
  'location.zipCode': 'postcode',
};

export function fakerMethodKind(method: string): PersonalValueKind | undefined {
  return FAKER_METHOD_KINDS[method];
}

/** Classifier categories (column names) by kind, for rules that do not say (hash(), constant()). */
const CATEGORY_KINDS: Readonly<Record<string, PersonalValueKind>> = {
  'first-name': 'given-name',
  'middle-name': 'given-name',
  'last-name': 'family-name',
  'full-name': 'full-name',
  username: 'username',
  email: 'email',
  phone: 'phone',
  'street-address': 'street',
  city: 'city',
  postcode: 'postcode',
};

export function categoryKind(category: string): PersonalValueKind | undefined {
  return CATEGORY_KINDS[category];
}
