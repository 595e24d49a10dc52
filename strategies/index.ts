export { allRows } from './all-rows-strategy.js';
export * from './anonymisers/index.js';
export { type ExactKeysOptions, exactKeys, type KeyValue } from './exact-keys-strategy.js';
export {
  type FactoryContext,
  type FactoryOptions,
  type FieldGenerator,
  factory,
} from './factory-strategy.js';
export { type LatestOptions, latest } from './latest-strategy.js';
export { none } from './none-strategy.js';
export { type RandomSampleOptions, randomSample } from './random-sample-strategy.js';
export { type RelatedOptions, referencedBy } from './referenced-by-strategy.js';
export { referencing } from './referencing-strategy.js';
export { where } from './where-strategy.js';
