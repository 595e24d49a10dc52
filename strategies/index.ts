export { allRows } from './all-rows-strategy.js';
