// The subset export the bench measures: a tenth of the users (the root of the demo's foreign keys)
// and what depends on them. Every other table keeps its default (all rows) and the default policy
// (restrict) cuts it down to the rows whose parents are exported; products have no parent and stay
// whole. Warn mode: this measures subsetting, not anonymisation.
import { defineConfig } from 'devsnap';
import { randomSample } from 'devsnap/strategies';

export default defineConfig({
  tables: { 'public.users': [randomSample({ percent: 10, seed: 1 })] },
  anonymise: { mode: 'warn' },
});
