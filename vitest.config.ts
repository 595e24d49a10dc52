import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: one PostgreSQL server, tests in two forks.
    pool: 'forks',
    maxWorkers: 2,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Test files in two forks share one server, so their imports queue for its import lock.
      DEVSNAP_IMPORT_LOCK_WAIT_MS: '300000',
    },
  },
});
