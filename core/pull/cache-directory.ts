import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where pulled snapshots are kept: $DEVSNAP_CACHE_DIR, else $XDG_CACHE_HOME/devsnap, else
 * ~/.cache/devsnap. Snapshots are keyed by id (ids are unique), laid out like a store so a
 * LocalDirectoryStore reads them in place.
 */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEVSNAP_CACHE_DIR) return resolve(env.DEVSNAP_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'devsnap');
}
