import { UsageError } from '../errors.js';
import { dropDatabaseReset } from './drop-database-reset.js';
import type { ResetMode, ResetModeName } from './reset-mode.js';
import { dropTablesReset, noReset } from './transactional-reset.js';

/** Every reset mode by its slug; the CLI's --reset-mode choices and help come from here. */
export const RESET_MODES: Readonly<Record<ResetModeName, ResetMode>> = Object.freeze({
  'drop-database': dropDatabaseReset,
  'drop-tables': dropTablesReset,
  none: noReset,
});

export function resetModeNamed(name: string): ResetMode {
  const mode = (RESET_MODES as Record<string, ResetMode | undefined>)[name];
  if (!mode) {
    throw new UsageError(`Unknown reset mode "${name}".`, {
      hint: `Choose one of: ${Object.keys(RESET_MODES).join(', ')}.`,
    });
  }
  return mode;
}
