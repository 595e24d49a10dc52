import { didYouMean } from '../core/config/did-you-mean.js';

/**
 * Problems with the options object a strategy or anonymiser builder was given, one line each: not
 * an object, a key the builder does not know (a typo such as `sede` would otherwise be ignored and
 * the default used), or a required key left out.
 */
export function optionProblems(
  builder: string,
  options: unknown,
  known: readonly string[],
  required: readonly string[] = [],
): string[] {
  if (options === undefined) {
    return required.map((key) => `${builder}: missing option ${key}; pass { ${key}: … }`);
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return [
      `${builder}: options must be an object like { ${known.join(', ')} } (got ${JSON.stringify(options)})`,
    ];
  }
  const given = options as Record<string, unknown>;
  return [
    ...Object.keys(given)
      .filter((key) => !known.includes(key))
      .map((key) => {
        const suggestion = didYouMean(key, known);
        return `${builder}: unknown option ${key}${suggestion || ` (it takes ${known.join(', ')})`}`;
      }),
    ...required
      .filter((key) => given[key] === undefined)
      .map((key) => `${builder}: missing option ${key}; pass { ${key}: … }`),
  ];
}

/** The options as given when they are an object, else none (the problem is reported by optionProblems). */
export function asOptions<T extends object>(options: unknown): T {
  return (options !== null && typeof options === 'object' && !Array.isArray(options) ? options : {}) as T;
}
