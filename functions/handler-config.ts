import { loadConfig } from '../core/config/config-loader.js';
import type { DevsnapConfig } from '../core/config/devsnap-config.js';
import { UsageError } from '../core/errors.js';

/**
 * The team's config. On Lambda it is compiled into the handler bundle at deploy time: the bundler
 * replaces this module with one that imports the config file itself (infra/lambda-bundle.ts), so a
 * config change ships by review and `cdk deploy` and Lambda never compiles anything. Run from the
 * sources (tests), it is loaded from `DEVSNAP_CONFIG_PATH`.
 */
export async function handlerConfig(path: string | undefined): Promise<DevsnapConfig> {
  if (path === undefined) {
    throw new UsageError('Environment variable DEVSNAP_CONFIG_PATH is not set, and no config was bundled.', {
      hint: 'Deploy the functions with infra/ (it compiles the config in), or set DEVSNAP_CONFIG_PATH.',
    });
  }
  return (await loadConfig(path)).config;
}
