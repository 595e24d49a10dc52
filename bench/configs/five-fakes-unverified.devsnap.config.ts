// five-fakes with export-time verification off: the bench's baseline for what checking every
// written value costs (the anonymised export with verification over this one; budget 1.15).
import { defineConfig } from 'devsnap';
import fiveFakes from './five-fakes.devsnap.config.js';

export default defineConfig({
  ...fiveFakes,
  anonymise: { ...fiveFakes.anonymise, verify: false, reason: 'bench: the baseline without verification' },
});
