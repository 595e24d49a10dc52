#!/usr/bin/env node
// The compiled CLI from dist/ (`npm run build`; `npm ci` and `npm pack` build it through `prepare`).
// Only this file and what a command imports are read, so `--help` and `--version` start fast.
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Node 22.1+: keep compiled code in a cache directory, so the next start skips parsing (no-op on 20).
module.enableCompileCache?.();
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const cli = new URL('../dist/cli.js', import.meta.url);
try {
  await import(cli.href);
} catch (error) {
  // Only dist/cli.js itself missing (a checkout never built), not a dependency it imports.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(`'${fileURLToPath(cli)}'`)) {
    throw error;
  }
  process.stderr.write('devsnap: dist/cli.js is missing; run `npm run build` in the devsnap checkout.\n');
  process.exitCode = 1;
}
