import { createRequire } from 'node:module';
import type { Faker } from '@faker-js/faker';

/**
 * Where faker comes from: one module per locale, loaded on first use, so only a config with a fake()
 * or custom() rule or a factory loads faker, and only the locales it names (the package with every
 * locale costs about a second). The Lambda bundles, which carry no node_modules, replace this file
 * with static imports of English and of the locales their config names (infra/lambda-bundle.ts),
 * so the exports below are its whole interface.
 */
export async function loadFakerLocale(locale: string): Promise<Faker> {
  return ((await import(`@faker-js/faker/locale/${locale}`)) as { faker: Faker }).faker;
}

const named = new Set<string>();

/** fake() calls this with its locale when a config is evaluated, so a bundler knows what to carry. */
export function noteFakerLocale(locale: string): void {
  named.add(locale);
}

/** The locales fake() rules named in this process, besides English. */
export function namedFakerLocales(): string[] {
  return [...named].filter((locale) => locale !== 'en').sort();
}

/**
 * The English faker, synchronously: config validation is synchronous and checks fake() methods
 * against it. Node 20.19 and newer require() an ES module without top-level await.
 */
export function loadEnglishFaker(): Faker {
  return (createRequire(import.meta.url)('@faker-js/faker/locale/en') as { faker: Faker }).faker;
}
