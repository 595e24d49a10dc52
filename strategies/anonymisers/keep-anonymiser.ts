import type { Anonymiser } from '../../core/anonymise/anonymiser.js';

/**
 * Exports the column as it is, on purpose. The reason is required and recorded in the manifest;
 * it is what tells the anonymisation gate that a column that looks personal is not (reference
 * data, public names, synthetic test accounts).
 */
export function keep(reason: string): Anonymiser {
  return {
    kind: 'keep',
    describe: () => 'keep',
    preserveNulls: true,
    keepReason: reason,
    canVary: false,
    wholeValue: true,
    validate: () =>
      typeof reason === 'string' && reason.trim().length > 0
        ? []
        : ["keep() needs a reason, e.g. keep('public film credits')"],
    bind: () => (value) => value,
  };
}
