import type { TextValue } from '../source/source.js';
import type { AnonymiseColumn, TypeFamily } from './anonymiser.js';
import type { DetectorName } from './detectors/detector-names.js';
import type { PersonalDataScanner } from './detectors/personal-data-scanner.js';
import { JsonNumber, jsonLeaves, parseJson } from './json-text.js';
import { CATEGORIES, type PersonalDataCategory } from './personal-data-categories.js';
import { parsePgArray, pgArrayElements } from './pg-array-text.js';

/** Why a column looks personal (or not), and the rule that would anonymise it. */
export interface ColumnVerdict {
  readonly personal: boolean;
  /** Short, value-free reasons, e.g. `name looks like an email address`. */
  readonly reasons: readonly string[];
  /** Rule source text suggested for the column, e.g. `fake('internet.email')`. */
  readonly suggestion: string | null;
}

export const NOT_PERSONAL: ColumnVerdict = { personal: false, reasons: [], suggestion: null };

type NameRule = readonly [RegExp, PersonalDataCategory];

/**
 * Column-name rules, matched against the name in snake_case with digits dropped (`firstName`,
 * `first_name` and `FirstName1` all read `first_name`). Earlier rules win: `ip_address` is an IP
 * address, not a street address.
 */
const NAME_RULES: readonly NameRule[] = [
  [/(^|_)(e_?mail|email_?address|mail_?address)(_|$)|^mail$/, CATEGORIES.email],
  [
    /(^|_)(ip|ip_?addr(ess)?|remote_?addr|remote_?ip|client_?ip|last_?ip|sign_?in_?ip|x_?forwarded_?for)(_|$)/,
    CATEGORIES.ipAddress,
  ],
  [/(^|_)(mac_?addr(ess)?|imei|device_?fingerprint)(_|$)/, CATEGORIES.deviceId],
  [/(^|_)(phone|telephone|tel|mobile|cell|cellphone|fax|msisdn|phone_?number)(_|$)|phone/, CATEGORIES.phone],
  [/(^|_)(first_?name|fname|given_?names?|forename)(_|$)/, CATEGORIES.firstName],
  [/(^|_)(last_?name|lname|surname|family_?name|maiden_?name)(_|$)/, CATEGORIES.lastName],
  [/(^|_)(middle_?names?)(_|$)/, CATEGORIES.middleName],
  [
    /(^|_)(full_?name|display_?name|legal_?name|(customer|contact|owner|holder|card_?holder|account_?holder|recipient|sender|billing|shipping|emergency_?contact|guardian|spouse|next_?of_?kin)_name)(_|$)/,
    CATEGORIES.fullName,
  ],
  [/(^|_)(user_?name|login|login_?name|screen_?name|nick_?name|handle)$/, CATEGORIES.username],
  [/(^|_)(post_?code|postal_?code|zip|zip_?code)(_|$)/, CATEGORIES.postcode],
  [
    /(^|_)(address_?line_?2|address_?2|line_?2|apartment|apt|suite|flat_?number)$/,
    CATEGORIES.secondaryAddress,
  ],
  [
    /(^|_)(address|addr|street|street_?address|address_?line(_?1)?|address_?1|line_?1|house_?(number|no|name))$/,
    CATEGORIES.streetAddress,
  ],
  [/(^|_)(dob|birth_?date|date_?of_?birth|birthday|born_?(on|at)|birth_?year)(_|$)/, CATEGORIES.birthDate],
  [
    /(^|_)(ssn|social_?security(_?number)?|national_?(id|insurance)(_?number)?|nino|nin|passport(_?(number|no))?|tax_?(id|number|code)|tin|sin|personnummer|driv(er|ing)s?_?licen[cs]e(_?(number|no))?|id_?card(_?number)?|identity_?(number|card)|nhs_?number|medicare(_?number)?|aadhaar|cpf|curp|dni|nif)(_|$)/,
    CATEGORIES.nationalId,
  ],
  [
    /(^|_)(iban|account_?(number|no)|bank_?account(_?(number|no))?|acct_?(number|no)|routing_?number|sort_?code|bsb)(_|$)/,
    CATEGORIES.bankAccount,
  ],
  [/(^|_)(card_?number|credit_?card(_?number)?|cc_?(number|num|no)|ccnum|pan)(_|$)/, CATEGORIES.cardNumber],
  [/(^|_)(cvv|cvc|cvv_?2|card_?security_?code)(_|$)/, CATEGORIES.cardSecurity],
  [
    /(^|_)(password|passwd|pwd|pass_?hash|passcode|pin_?code|password_?(hash|digest))(_|$)|^pin$/,
    CATEGORIES.password,
  ],
  [
    /(^|_)(token|secret|api_?key|apikey|access_?key|secret_?key|private_?key|client_?secret|session_?(key|token|id)|otp|totp|mfa_?secret|recovery_?codes?|salt|auth_?key|(reset|remember|confirmation|activation)_?digest)(_|$)|token|secret/,
    CATEGORIES.secret,
  ],
  [
    /(^|_)(lat|latitude|lng|lon|longitude|geo|geolocation|geo_?location|geo_?point|coordinates|coords|gps|location_?point)(_|$)/,
    CATEGORIES.geolocation,
  ],
  [
    /(^|_)(ethnicity|race|religion|sexual_?orientation|diagnosis|medical_?(history|notes|condition)|health_?(notes|condition)|disability)(_|$)/,
    CATEGORIES.special,
  ],
];

/** Tables whose bare `name` column is a person's name. */
const PERSON_TABLE =
  /(^|_)(users?|customers?|persons?|people|staff|employees?|members?|contacts?|patients?|students?|clients?|authors?|drivers?|passengers?|guests?|applicants?|candidates?|subscribers?|profiles?|actors?|teachers?|tenants?|owners?)$/;

/** Every column of these types is personal whatever its name. */
const TYPE_RULES: Partial<Record<TypeFamily, PersonalDataCategory>> = {
  inet: CATEGORIES.ipAddress,
  geometry: CATEGORIES.geolocation,
};

function normaliseName(name: string): string {
  return name
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/(\d+)/g, '_$1')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Names of flags, counts, ids, times and settings about personal data, not the data itself. */
const ABOUT_PERSONAL_DATA =
  /_(count|counts|id|ids|uuid|at|on|date|time|type|types|status|verified|enabled|disabled|confirmed|flag|sent|kind|format|template|provider|preference|preferences|opt_?in|opt_?out|consent|visible|public|private|required|changed|updated|expires|expiry|length|version)$/;

/** The category a column or JSON key name suggests, if its type can hold such data. */
export function categoryForName(
  name: string,
  family: TypeFamily,
  tableName?: string,
): PersonalDataCategory | null {
  const normal = normaliseName(name);
  // `date_of_birth` is personal although it ends in a time word; `email_verified_at` is not.
  if (ABOUT_PERSONAL_DATA.test(normal) && !/birth|dob|born/.test(normal)) return null;
  for (const [pattern, category] of NAME_RULES) {
    if (pattern.test(normal) && category.families.includes(family)) return category;
  }
  if (normal === 'name' && tableName && PERSON_TABLE.test(normaliseName(tableName)) && family === 'text') {
    return CATEGORIES.fullName;
  }
  return null;
}

/** Classifies a column by its name and type alone. */
export function classifyByName(column: AnonymiseColumn): ColumnVerdict {
  const byType = TYPE_RULES[column.family];
  if (byType) {
    return {
      personal: true,
      reasons: [`type ${column.column.dataType} holds ${byType.label}`],
      suggestion: byType.suggest(column),
    };
  }
  const category = categoryForName(column.column.name, column.family, column.table.name);
  if (!category) return NOT_PERSONAL;
  return {
    personal: true,
    reasons: [`name looks like ${category.label}`],
    suggestion: category.suggest(column),
  };
}

/** The category the classifier reports for what a detector finds in values. */
const DETECTED: Readonly<Record<DetectorName, PersonalDataCategory>> = {
  email: CATEGORIES.email,
  phone: CATEGORIES.phone,
  'payment-card': CATEGORIES.cardNumber,
  iban: CATEGORIES.bankAccount,
  'national-id': CATEGORIES.nationalId,
  'ip-address': CATEGORIES.ipAddress,
  'street-address': CATEGORIES.streetAddress,
  'person-name': CATEGORIES.fullName,
  username: CATEGORIES.username,
  city: CATEGORIES.city,
  postcode: CATEGORIES.postcode,
};

/** The most telling detector first: a card number can also look like a long phone number. */
const BY_PRECISION: readonly DetectorName[] = [
  'email',
  'payment-card',
  'iban',
  'national-id',
  'ip-address',
  'phone',
  'username',
  'postcode',
  'street-address',
  'city',
  'person-name',
];

/** What sampled values say about a column: counts per detector, and JSON paths that look personal. */
export function classifyValues(
  column: AnonymiseColumn,
  values: readonly TextValue[],
  scanner: PersonalDataScanner,
): ColumnVerdict {
  const counts = new Map<string, { hits: number; detector: DetectorName }>();
  let scalarsSeen = 0;
  const jsonPaths = new Map<string, PersonalDataCategory>();
  const pathCounts = new Map<string, { hits: Map<DetectorName, number> }>();
  let sampled = 0;
  for (const value of values) {
    if (value === null) continue;
    sampled++;
    if (column.family === 'json') {
      let parsed: ReturnType<typeof parseJson>;
      try {
        parsed = parseJson(value);
      } catch {
        continue;
      }
      for (const leaf of jsonLeaves(parsed)) {
        if (leaf.value === null || typeof leaf.value === 'boolean') continue;
        const text = leaf.value instanceof JsonNumber ? leaf.value.raw : String(leaf.value);
        const family: TypeFamily = leaf.value instanceof JsonNumber ? 'numeric' : 'text';
        const byKey = leaf.key
          ? (categoryForName(leaf.key, family) ?? jsonKeyCategory(leaf.key, family))
          : null;
        if (byKey) jsonPaths.set(leaf.path, byKey);
        const path = pathCounts.get(leaf.path) ?? { hits: new Map<DetectorName, number>() };
        for (const { detector } of detect(text, scanner))
          path.hits.set(detector, (path.hits.get(detector) ?? 0) + 1);
        pathCounts.set(leaf.path, path);
      }
      continue;
    }
    const scalars: string[] = [];
    if (column.isArray) {
      try {
        for (const element of pgArrayElements(parsePgArray(value).elements))
          if (element !== null) scalars.push(element);
      } catch {
        scalars.push(value);
      }
    } else scalars.push(value);
    for (const scalar of scalars) {
      scalarsSeen++;
      for (const { detector, whole } of detect(scalar, scanner)) {
        const where = `${whole ? 'whole' : 'contains'}:${detector}`;
        const entry = counts.get(where) ?? { hits: 0, detector };
        entry.hits++;
        counts.set(where, entry);
      }
    }
  }
  // Any find counts, as it would stop the export's check of every written value.
  for (const [path, { hits }] of pathCounts) {
    const detector = BY_PRECISION.find((name) => (hits.get(name) ?? 0) > 0);
    if (detector) jsonPaths.set(path, jsonPaths.get(path) ?? DETECTED[detector]);
  }
  const reasons: string[] = [];
  let suggestion: string | null = null;
  if (jsonPaths.size > 0) {
    const paths = [...jsonPaths].sort(([a], [b]) => a.localeCompare(b));
    reasons.push(
      `sampled JSON has personal data at ${paths.map(([path, category]) => `${path} (${category.label})`).join(', ')}`,
    );
    // '$': scrub() first: names and emails under keys that do not say so (shipping.name) are
    // personal too; the paths after it fake what their keys name.
    suggestion = `jsonPaths({ '$': scrub(), ${paths.map(([path, category]) => `'${jsonPathPattern(path)}': ${category.suggest({ family: 'text', column: { ...column.column, nullable: true }, unique: false })}`).join(', ')} })`;
  }
  for (const [where, entry] of counts) {
    const whole = where.startsWith('whole:');
    const category = DETECTED[entry.detector];
    reasons.push(
      whole
        ? `${entry.hits} of ${scalarsSeen} sampled values look like ${category.label}`
        : `${entry.hits} of ${scalarsSeen} sampled values contain ${category.label}`,
    );
    // A column of such values gets their fake; text that holds some gets scrub().
    suggestion ??=
      whole && entry.hits * 2 >= scalarsSeen ? category.suggest(column) : CATEGORIES.freeText.suggest(column);
  }
  if (reasons.length === 0 || sampled === 0) return NOT_PERSONAL;
  return { personal: true, reasons, suggestion };
}

/** Keys that name personal data inside JSON documents (addresses), though not as a column's name. */
function jsonKeyCategory(key: string, family: TypeFamily): PersonalDataCategory | null {
  return family === 'text' && /^(city|town|locality)$/i.test(key) ? CATEGORIES.city : null;
}

/** `$.items[*].email` stays as it is; quoted keys keep their quotes. */
function jsonPathPattern(path: string): string {
  return path.replaceAll("'", "\\'");
}

/** What the detectors find in one text (decoded payloads included): each detector once, and whether it was the whole text. */
export function detect(
  text: string,
  scanner: PersonalDataScanner,
): { detector: DetectorName; whole: boolean }[] {
  const found = new Map<DetectorName, boolean>();
  const trimmed = text.trim();
  scanner.scan(text, (detector, match, via) => {
    const whole = via === null && match.trim() === trimmed;
    found.set(detector, (found.get(detector) ?? false) || whole);
  });
  return [...found].map(([detector, whole]) => ({ detector, whole }));
}

/** Combines the name/type verdict with the value verdict. */
export function mergeVerdicts(first: ColumnVerdict, second: ColumnVerdict): ColumnVerdict {
  if (!second.personal) return first;
  if (!first.personal) return second;
  return {
    personal: true,
    reasons: [...first.reasons, ...second.reasons],
    suggestion: first.suggestion ?? second.suggestion,
  };
}
