import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage, UsageError } from '../errors.js';
import type { DevsnapConfig } from './devsnap-config.js';

export const DEFAULT_CONFIG_FILE = 'devsnap.config.ts';

/**
 * Loads a config module (TypeScript or JavaScript; its default export or `config`). Without a
 * file argument, `./devsnap.config.ts` is used when it exists and an empty config otherwise.
 */
export async function loadConfig(
  file: string | undefined,
  cwd = process.cwd(),
): Promise<{ config: DevsnapConfig; path: string | null }> {
  const path = resolve(cwd, file ?? DEFAULT_CONFIG_FILE);
  try {
    await access(path);
  } catch {
    if (file === undefined) return { config: {}, path: null };
    throw new UsageError(`Config file ${path} does not exist.`, {
      hint: 'Pass --config FILE, or run `devsnap init` to write a starter devsnap.config.ts.',
    });
  }
  let module: { default?: unknown; config?: unknown };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new UsageError(`Config file ${path} could not be loaded: ${errorMessage(error)}`, { cause: error });
  }
  const config = module.default ?? module.config;
  if (config === null || typeof config !== 'object') {
    throw new UsageError(
      `Config file ${path} must export a config object (export default defineConfig({ … })).`,
    );
  }
  return { config: config as DevsnapConfig, path };
}
