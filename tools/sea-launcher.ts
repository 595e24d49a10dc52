/**
 * The main script of the single executable (tools/build-sea.ts). Node runs a single executable's
 * main script as CommonJS that can require only built-in modules, while devsnap is ES modules that
 * load parquet-wasm's binary and esbuild's from files. So the executable carries those files as
 * assets, and this launcher writes them once into a cache folder (per build, checked by size) and
 * imports the CLI from there: after the first run, a start costs a few stat() calls more.
 */
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { getAsset } from 'node:sea';
import { pathToFileURL } from 'node:url';

interface SeaFiles {
  /** Names the build, so two builds never share a cache folder. */
  readonly build: string;
  readonly entry: string;
  readonly files: readonly { readonly path: string; readonly bytes: number; readonly executable?: boolean }[];
}

async function unpack(): Promise<string> {
  const manifest = JSON.parse(getAsset('sea-files.json', 'utf8')) as SeaFiles;
  const cache = process.env.DEVSNAP_CACHE_DIR || join(homedir(), '.cache', 'devsnap');
  const root = join(cache, `executable-${manifest.build}`);
  for (const file of manifest.files) {
    const target = join(root, file.path);
    const present = await stat(target).then(
      (info) => info.size === file.bytes,
      () => false,
    );
    if (present) continue;
    await mkdir(dirname(target), { recursive: true });
    // Written beside and renamed, so a second devsnap starting at the same time never reads half a file.
    const partial = `${target}.${process.pid}.partial`;
    await writeFile(partial, new Uint8Array(getAsset(file.path)));
    if (file.executable) await chmod(partial, 0o755);
    await rename(partial, target);
  }
  return join(root, manifest.entry);
}

unpack().then(
  (entry) => import(pathToFileURL(entry).href),
  (error: unknown) => {
    process.stderr.write(
      `devsnap: could not unpack into the cache folder: ${error instanceof Error ? error.message : String(error)}\n` +
        '  Set DEVSNAP_CACHE_DIR to a writable folder.\n',
    );
    process.exitCode = 1;
  },
);
