import type { Anonymiser } from '../../core/anonymise/anonymiser.js';
import { allowProblems } from '../../core/anonymise/detectors/detector-names.js';
import { optionProblems } from '../option-problems.js';
import type { AllowOption } from './allow-option.js';

/**
 * Exports the column as it is, on purpose. The reason is required and recorded in the manifest;
 * it is what tells the anonymisation gate that a column that looks personal is not (reference
 * data, public names, synthetic test accounts). Every value is still checked by the detectors as
 * it is written; `allow` names the ones this column may set off (`allow: ['person-name']`).
 */
export function keep(reason: string, options: AllowOption = {}): Anonymiser {
  return {
    kind: 'keep',
    describe: () => 'keep',
    preserveNulls: true,
    keepReason: reason,
    ...(options.allow ? { allow: options.allow } : {}),
    canVary: false,
    wholeValue: true,
    validate: () => [
      ...optionProblems('keep()', options, ['allow']),
      ...(typeof reason === 'string' && reason.trim().length > 0
        ? []
        : ["keep() needs a reason, e.g. keep('public film credits')"]),
      ...allowProblems(options.allow, 'keep()'),
    ],
    bind: () => (value) => value,
  };
}
