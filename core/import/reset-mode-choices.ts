import type { ResetModeName } from './reset-mode.js';

/**
 * Each reset mode's slug and when to choose it, apart from the modes themselves: `--reset-mode`'s
 * choices and `devsnap import --help` read this without loading the import code (and pg).
 */
export const RESET_MODE_CHOICES = [
  {
    name: 'drop-database',
    whenToUse:
      'default; replaces the whole database with the snapshot, built beside it and swapped in only when complete',
  },
  {
    name: 'drop-tables',
    whenToUse:
      'keep the database and objects the snapshot does not contain; drops and recreates only the snapshot tables, in one transaction (your views, foreign keys, triggers, policies and rules on them are recreated)',
  },
  {
    name: 'none',
    whenToUse: 'load into the existing database without dropping anything (fails if a snapshot table exists)',
  },
] as const satisfies readonly { name: ResetModeName; whenToUse: string }[];

export function whenToUseResetMode(name: ResetModeName): string {
  return RESET_MODE_CHOICES.find((choice) => choice.name === name)?.whenToUse ?? '';
}
