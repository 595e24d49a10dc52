// The public API (`import … from 'devsnap'`). A config imports it for defineConfig, so importing it
// must stay cheap: the engine's entry points below load their implementation (pg, Arrow, Parquet,
// faker) on first call instead of at import.
import type * as AnonymisationPlanModule from './anonymise/anonymisation-plan.js';
import type * as StarterConfigModule from './anonymise/starter-config.js';
import type * as ExportModule from './export/export-snapshot.js';
import type * as ImportModule from './import/import-snapshot.js';
import type * as CatalogModule from './snapshot-catalog.js';

export type { AnonymisationPlan } from './anonymise/anonymisation-plan.js';
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
export * from './config/devsnap-config.js';
export * from './errors.js';
export type { ExportOptions, ExportResult, TableExportSummary } from './export/export-snapshot.js';
export type {
  ImportOptions,
  ImportResult,
  ResetModeName,
  TableImportSummary,
} from './import/import-snapshot.js';
export * from './progress.js';
export type { SnapshotSummary } from './snapshot-catalog.js';
export * from './store/local-directory-store.js';
export * from './store/snapshot-store.js';
export type { ForeignKeyPolicy, Strategy, StrategyRows } from './subset/strategy.js';

/** Reads a subset of the source inside one read-only snapshot, anonymises it and publishes it to the store. */
export const exportSnapshot: typeof ExportModule.exportSnapshot = async (options) =>
  (await import('./export/export-snapshot.js')).exportSnapshot(options);

/** Verifies a snapshot against its manifest, then loads it into the target database. */
export const importSnapshot: typeof ImportModule.importSnapshot = async (options) =>
  (await import('./import/import-snapshot.js')).importSnapshot(options);

/** Every column's classification and treatment under a config, without exporting. */
export const planAnonymisation: typeof AnonymisationPlanModule.planAnonymisation = async (options) =>
  (await import('./anonymise/anonymisation-plan.js')).planAnonymisation(options);

/** The starter devsnap.config.ts for a database: every table, and a rule for each personal-looking column. */
export const generateStarterConfig: typeof StarterConfigModule.generateStarterConfig = async (...args) =>
  (await import('./anonymise/starter-config.js')).generateStarterConfig(...args);

/** The snapshots in a store, oldest first. */
export const listSnapshots: typeof CatalogModule.listSnapshots = async (store) =>
  (await import('./snapshot-catalog.js')).listSnapshots(store);

/** A snapshot's manifest, by id, unique id prefix or "latest". */
export const inspectSnapshot: typeof CatalogModule.inspectSnapshot = async (store, snapshot) =>
  (await import('./snapshot-catalog.js')).inspectSnapshot(store, snapshot);
