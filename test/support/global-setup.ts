import type { TestProject } from 'vitest/node';
import { buildPackage, packageBuildIsStale } from '../../tools/build-package.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../tools/embedded-postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the maintenance database of the test server; tests create their own databases on it. */
    postgresUrl: string;
  }
}

let server: EmbeddedServer | undefined;

/** Builds dist/ when stale, then starts one PostgreSQL for the whole run, unless DEVSNAP_TEST_DATABASE_URL names an external one. */
export async function setup(project: TestProject): Promise<void> {
  // Child-process tests run bin/devsnap.js, which runs dist/: rebuild it when a source changed.
  if (await packageBuildIsStale()) await buildPackage();
  const external = process.env.DEVSNAP_TEST_DATABASE_URL;
  if (external) {
    project.provide('postgresUrl', external);
    return;
  }
  server = await startEmbeddedPostgres();
  project.provide('postgresUrl', server.url('postgres'));
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
