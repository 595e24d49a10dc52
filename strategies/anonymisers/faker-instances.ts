import type { Faker } from '@faker-js/faker';
import { SeededRandom } from '../../core/anonymise/seeded-random.js';
import { loadEnglishFaker, loadFakerLocale } from './faker-locales.js';

/** A faker whose randomness comes from a SeededRandom the caller reseeds per value. */
export type SeededFaker = Faker;

type FakerConstructor = new (options: {
  locale: Faker['rawDefinitions'];
  randomizer: SeededRandom;
}) => SeededFaker;

const cache = new Map<string, Promise<{ faker: SeededFaker; random: SeededRandom }>>();

/**
 * One faker per locale, driven by a SeededRandom. Locales load on first use (each is one small
 * module; loading every locale at once costs half a second).
 */
export function seededFaker(locale: string): Promise<{ faker: SeededFaker; random: SeededRandom }> {
  let entry = cache.get(locale);
  if (!entry) {
    entry = (async () => {
      const localeFaker = await loadFakerLocale(locale);
      const random = new SeededRandom(new Uint8Array(16));
      const Constructor = localeFaker.constructor as FakerConstructor;
      return { faker: new Constructor({ locale: localeFaker.rawDefinitions, randomizer: random }), random };
    })();
    cache.set(locale, entry);
  }
  return entry;
}

let english: SeededFaker | undefined;

/** The English faker for checking method names while a config is validated (loaded on first use). */
export function referenceFaker(): SeededFaker {
  english ??= loadEnglishFaker();
  return english;
}

/** `module.method` paths of every faker method, for did-you-mean. */
export function fakerMethodPaths(): string[] {
  const paths: string[] = [];
  for (const [module, value] of Object.entries(referenceFaker())) {
    if (
      module.startsWith('_') ||
      typeof value !== 'object' ||
      value === null ||
      module === 'rawDefinitions' ||
      module === 'definitions'
    )
      continue;
    for (const method of methodNames(value)) paths.push(`${module}.${method}`);
  }
  return paths;
}

function methodNames(object: object): string[] {
  const names = new Set<string>();
  let prototype = Object.getPrototypeOf(object);
  while (prototype && prototype !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name !== 'constructor' && typeof (object as Record<string, unknown>)[name] === 'function')
        names.add(name);
    }
    prototype = Object.getPrototypeOf(prototype);
  }
  return [...names];
}

/** The faker function at `module.method` on this faker, or undefined. */
export function fakerMethod(faker: SeededFaker, path: string): ((...args: unknown[]) => unknown) | undefined {
  const [module, method, extra] = path.split('.');
  if (!module || !method || extra !== undefined || module.startsWith('_')) return undefined;
  const target = (faker as unknown as Record<string, Record<string, unknown> | undefined>)[module];
  const fn = target && typeof target === 'object' ? target[method] : undefined;
  return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown).bind(target) : undefined;
}
