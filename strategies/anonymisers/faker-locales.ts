import { createRequire } from 'node:module';
import type { Faker } from '@faker-js/faker';

/**
 * Where faker comes from: one module per locale, loaded on first use, so only a config with a fake()
 * or custom() rule or a factory loads faker, and only the locales it names (the package with every
 * locale costs about a second). The Lambda bundles, which carry no node_modules, replace this file
 * with static imports of the locales their config names (infra/lambda-bundle.ts).
 */
export async function loadFakerLocale(locale: string): Promise<Faker> {
  return ((await import(`@faker-js/faker/locale/${locale}`)) as { faker: Faker }).faker;
}

/**
 * The English faker, synchronously: config validation is synchronous and checks fake() methods
 * against it. Node 20.19 and newer require() an ES module without top-level await.
 */
export function loadEnglishFaker(): Faker {
  return (createRequire(import.meta.url)('@faker-js/faker/locale/en') as { faker: Faker }).faker;
}
