export * from './config/devsnap-config.js';
export * from './errors.js';
export * from './export/export-snapshot.js';
export * from './import/import-snapshot.js';
export * from './progress.js';
export * from './snapshot-catalog.js';
export * from './store/local-directory-store.js';
export * from './store/snapshot-store.js';
export type { ForeignKeyPolicy, Strategy, StrategyRows } from './subset/strategy.js';
