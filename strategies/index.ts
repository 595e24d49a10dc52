export { allRows } from './all-rows-strategy.js';
export {
  type FactoryContext,
  type FactoryOptions,
  type FieldGenerator,
  factory,
} from './factory-strategy.js';
