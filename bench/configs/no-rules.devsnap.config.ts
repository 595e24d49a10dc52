// The plain export the bench measures: no anonymisation rules. The demo database has personal
// columns, so strict mode would (rightly) refuse it; warn mode exports them as they are.
import { defineConfig } from 'devsnap';

export default defineConfig({ anonymise: { mode: 'warn' } });
