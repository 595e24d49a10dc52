import { access } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { type DevsnapConfig, withConfigFile } from './devsnap-config.js';

export const DEFAULT_CONFIG_FILE = 'devsnap.config.ts';
/** Looked for, in this order, when no config file is given. */
export const CONFIG_FILE_NAMES = [
  DEFAULT_CONFIG_FILE,
  'devsnap.config.mts',
  'devsnap.config.js',
  'devsnap.config.mjs',
  'devsnap.config.cts',
  'devsnap.config.cjs',
] as const;

/**
 * Loads a config module (TypeScript or JavaScript, ES module or CommonJS; its default export or
 * `config`) from any folder: with no package.json, a CommonJS one or an ESM one, and whether devsnap is
 * installed there or not, since its `devsnap` and `devsnap/strategies` imports are bound to the
 * devsnap that is running (see config-compiler.ts). Without a file argument the first of
 * CONFIG_FILE_NAMES that exists is used, and an empty config when none does.
 */
export async function loadConfig(
  file: string | undefined,
  cwd = process.cwd(),
): Promise<{ config: DevsnapConfig; path: string | null }> {
  const path = file === undefined ? await findConfigFile(cwd) : resolve(cwd, file);
  if (path === null) return { config: {}, path: null };
  // Errors name the file as the user would type it.
  const shown = file ?? relative(cwd, path);
  if (!(await exists(path))) {
    throw new UsageError(`Config file ${shown} does not exist (looked for ${path}).`, {
      hint: `Pass --config FILE, or run \`devsnap init\` to write a starter ${DEFAULT_CONFIG_FILE}.`,
    });
  }
  // esbuild is loaded only by the commands that read a config.
  const { evaluateConfigModule } = await import('./config-compiler.js');
  const module = await evaluateConfigModule(path, shown);
  const config = module.default ?? module.config;
  if (config === null || typeof config !== 'object') {
    throw new UsageError(`Config file ${shown} must export a config object.`, {
      hint: 'End it with: export default defineConfig({ … }) (import { defineConfig } from "devsnap").',
    });
  }
  return { config: withConfigFile(config as DevsnapConfig, path), path };
}

async function findConfigFile(cwd: string): Promise<string | null> {
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (await exists(path)) return path;
  }
  return null;
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
