export type { Anonymiser } from '../../core/anonymise/anonymiser.js';
export { DETECTOR_NAMES, type DetectorName } from '../../core/anonymise/detectors/detector-names.js';
export type { AllowOption } from './allow-option.js';
export { constant } from './constant-anonymiser.js';
export { type CustomContext, type CustomFunction, type CustomOptions, custom } from './custom-anonymiser.js';
export { type DateShiftOptions, dateShift } from './date-shift-anonymiser.js';
export {
  BCRYPT_DEVELOPMENT_PASSWORD_HASH,
  DEVELOPMENT_PASSWORD,
  DJANGO_DEVELOPMENT_PASSWORD_HASH,
  developmentPassword,
  type PasswordScheme,
} from './development-password-anonymiser.js';
export { type DjangoSerializedOptions, djangoSerialized } from './django-serialized-anonymiser.js';
export { type FakeOptions, fake } from './fake-anonymiser.js';
export { type HashOptions, hash } from './hash-anonymiser.js';
export { jsonPaths } from './json-paths-anonymiser.js';
export { keep } from './keep-anonymiser.js';
export { keepIf, type RowPredicate } from './keep-if-anonymiser.js';
export { type MaskOptions, mask } from './mask-anonymiser.js';
export { nullValue } from './null-anonymiser.js';
export { type PaperTrailOptions, paperTrail } from './paper-trail-anonymiser.js';
export { type RandomForeignKeyOptions, randomForeignKey } from './random-foreign-key-anonymiser.js';
export type { RuleOptions } from './rule-options.js';
export { type ScrubOptions, scrub } from './scrub-anonymiser.js';
