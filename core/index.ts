export { type AnonymisationPlan, planAnonymisation } from './anonymise/anonymisation-plan.js';
export type { AnonymiseConfig, SecretSpec } from './anonymise/anonymise-config.js';
export type { SecretsManagerReader } from './anonymise/anonymise-secret.js';
export type {
  AnonymiseColumn,
  Anonymiser,
  AnonymiserTools,
  RowValues,
  ValueFunction,
} from './anonymise/anonymiser.js';
export { DETECTOR_NAMES, type DetectorName } from './anonymise/detectors/detector-names.js';
export { PersonalDataError, type UnresolvedColumn } from './anonymise/personal-data-gate.js';
export { generateStarterConfig } from './anonymise/starter-config.js';
export * from './config/devsnap-config.js';
export * from './errors.js';
export * from './export/export-snapshot.js';
export * from './import/import-snapshot.js';
export * from './progress.js';
export * from './snapshot-catalog.js';
export * from './store/local-directory-store.js';
export * from './store/snapshot-store.js';
export type { ForeignKeyPolicy, Strategy, StrategyRows } from './subset/strategy.js';
