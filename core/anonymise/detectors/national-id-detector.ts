import { type Detector, matchAll } from './detector.js';

interface Validator {
  validate(input: string): { isValid: boolean };
}

interface Shape {
  readonly digits: number;
  readonly uppercase: number;
  readonly pattern: RegExp;
  readonly check: Validator;
}

/**
 * National ids in the shapes people write them, each confirmed by its own check (stdnum, a port of
 * python-stdnum): the check digits or letters, valid dates of birth and ranges. Ids that are a
 * bare run of digits with a weak check (a Dutch BSN, a German tax id) are left out: in a database
 * they are indistinguishable from ordinary numbers.
 */
export async function nationalIdDetector(): Promise<Detector> {
  const { stdnum } = (await import('stdnum')) as unknown as {
    stdnum: Record<string, Record<string, Validator>>;
  };
  const id = (country: string, kind: string): Validator => {
    const validator = stdnum[country]?.[kind];
    if (!validator) throw new Error(`stdnum has no ${country}.${kind}`);
    return validator;
  };
  // Each shape with the fewest digits and capitals it can have, so most texts skip its pattern.
  const shapes: readonly Shape[] = [
    { digits: 9, uppercase: 0, pattern: /(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w]|-\d)/g, check: id('US', 'ssn') },
    {
      digits: 6,
      uppercase: 3,
      pattern: /(?<![\w])[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D](?!\w)/g,
      check: id('GB', 'nino'),
    },
    {
      digits: 9,
      uppercase: 0,
      pattern: /(?<![\w-])\d{3}[ -]\d{3}[ -]\d{3}(?![\w]|[ -]\d)/g,
      check: id('CA', 'sin'),
    },
    { digits: 8, uppercase: 1, pattern: /(?<![\w-])\d{8}-?[A-Z](?!\w)/g, check: id('ES', 'dni') },
    { digits: 7, uppercase: 2, pattern: /(?<![\w-])[XYZ]-?\d{7}-?[A-Z](?!\w)/g, check: id('ES', 'nie') },
    {
      digits: 7,
      uppercase: 9,
      pattern: /(?<!\w)[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?!\w)/g,
      check: id('IT', 'codicefiscale'),
    },
    {
      digits: 11,
      uppercase: 0,
      pattern: /(?<![\w.-])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w]|-\d)/g,
      check: id('BR', 'cpf'),
    },
    {
      digits: 13,
      uppercase: 0,
      pattern: /(?<![\w])[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}(?!\w)/g,
      check: id('FR', 'nir'),
    },
    {
      digits: 10,
      uppercase: 0,
      pattern: /(?<![\w-])(?:19|20)?\d{6}[-+]\d{4}(?![\w]|-\d)/g,
      check: id('SE', 'personnummer'),
    },
    {
      digits: 12,
      uppercase: 0,
      pattern: /(?<![\w])[2-9]\d{3} \d{4} \d{4}(?![\w]| \d)/g,
      check: id('IN', 'aadhaar'),
    },
    { digits: 17, uppercase: 0, pattern: /(?<![\w])\d{17}[\dX](?!\w)/g, check: id('CN', 'ric') },
  ];
  return {
    name: 'national-id',
    find(text, facts, into) {
      if (facts.digits < 6) return;
      for (const shape of shapes) {
        if (facts.digits < shape.digits || facts.uppercase < shape.uppercase) continue;
        matchAll(shape.pattern, text, 'national-id', into, (match) =>
          shape.check.validate(match[0]).isValid
            ? { start: match.index, end: match.index + match[0].length }
            : null,
        );
      }
    },
  };
}
