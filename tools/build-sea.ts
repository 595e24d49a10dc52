/**
 * `npm run build:sea`: devsnap as one executable file for this platform, built with Node's single
 * executable applications (SEA), for machines without Node or npm: `dist-sea/devsnap`.
 *
 * The executable is this Node binary with a blob injected (by postject) that holds:
 * - tools/sea-launcher.ts as the main script (CommonJS, as SEA requires);
 * - the CLI bundled by esbuild into ES modules, every dependency included, faker with all its
 *   locales (the person-name detector reads them all anyway);
 * - parquet-wasm's Node build and libpg-query (the import's SQL parser) with their .wasm, and
 *   esbuild's JavaScript API with the native binary for this platform (configs are compiled with
 *   it): packages that load files from beside their own code, so they stay packages.
 * The launcher unpacks them into ~/.cache/devsnap (or $DEVSNAP_CACHE_DIR) on the first run.
 */
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { CLI_BUNDLE } from './build-package.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const run = promisify(execFile);

export interface SeaBuild {
  readonly executable: string;
  readonly bytes: number;
  /** What the blob carries, unpacked on the first run. */
  readonly carriedBytes: number;
  readonly durationMs: number;
}

export async function buildSea(outdir = join(ROOT, 'dist-sea')): Promise<SeaBuild> {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'devsnap-sea-'));
  try {
    const app = join(work, 'app');
    await bundleApp(app);
    await copyPackageFiles(app);
    const files = await listFiles(app);
    const version = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version as string;
    const buildId = `${version}-${Date.now().toString(36)}`;
    const manifest = {
      build: buildId,
      entry: 'cli.js',
      files: files.map((file) => ({ ...file, executable: file.path.endsWith('/bin/esbuild') || undefined })),
    };
    await writeFile(join(work, 'sea-files.json'), JSON.stringify(manifest));
    await build({
      entryPoints: [join(ROOT, 'tools/sea-launcher.ts')],
      outfile: join(work, 'launcher.cjs'),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: `node${process.versions.node}`,
      logLevel: 'warning',
    });
    const assets = Object.fromEntries([
      ['sea-files.json', join(work, 'sea-files.json')],
      ...files.map((file) => [file.path, join(app, file.path)]),
    ]);
    await writeFile(
      join(work, 'sea-config.json'),
      JSON.stringify({
        main: join(work, 'launcher.cjs'),
        output: join(work, 'sea.blob'),
        assets,
        disableExperimentalSEAWarning: true,
      }),
    );
    await run(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { cwd: work });
    await mkdir(outdir, { recursive: true });
    const executable = join(outdir, 'devsnap');
    await rm(executable, { force: true });
    await copyFile(process.execPath, executable);
    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
    await run(process.execPath, [
      postject,
      executable,
      'NODE_SEA_BLOB',
      join(work, 'sea.blob'),
      '--sentinel-fuse',
      SEA_FUSE,
    ]);
    return {
      executable,
      bytes: (await stat(executable)).size,
      carriedBytes: files.reduce((sum, file) => sum + file.bytes, 0),
      durationMs: performance.now() - started,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Packages carried as files in node_modules beside the CLI, and which of their files ('all': the folder). */
const CARRIED_PACKAGES: Readonly<Record<string, readonly string[] | 'all'>> = {
  'parquet-wasm': ['package.json', 'node/package.json', 'node/parquet_wasm.js', 'node/parquet_wasm_bg.wasm'],
  'libpg-query': ['package.json', 'wasm/index.cjs', 'wasm/libpg-query.js', 'wasm/libpg-query.wasm'],
  '@pgsql/types': 'all',
  esbuild: ['package.json', 'lib/main.js'],
  [`@esbuild/${process.platform}-${process.arch}`]: ['package.json', 'bin/esbuild'],
};

/** The CLI as ES modules (a chunk per lazy command), everything but the carried packages inside. */
async function bundleApp(app: string): Promise<void> {
  await build({
    ...CLI_BUNDLE,
    entryPoints: { cli: 'cli/main.ts' },
    outdir: app,
    // ES module builds first: a bundled CommonJS package imported by import() shows only `default`
    // (Node itself finds the named exports; esbuild does not), e.g. `const { stdnum } = await import('stdnum')`.
    mainFields: ['module', 'main'],
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    external: ['parquet-wasm', 'libpg-query', 'esbuild'],
    banner: {
      js: "import { createRequire as __devsnapRequire } from 'node:module'; const require = __devsnapRequire(import.meta.url);",
    },
    plugins: [allFakerLocales()],
  });
}

/** The executable carries every locale, so faker-locales.ts reads them from faker's own index. */
function allFakerLocales(): Plugin {
  return {
    name: 'devsnap-sea-faker',
    setup(build) {
      build.onLoad({ filter: /[/\\]strategies[/\\]anonymisers[/\\]faker-locales\.ts$/ }, () => ({
        contents: `import { allFakers } from '@faker-js/faker';
export async function loadFakerLocale(locale) {
  const faker = allFakers[locale];
  if (!faker) throw new Error(\`faker has no locale \${locale}\`);
  return faker;
}
export function loadEnglishFaker() { return allFakers.en; }
export function noteFakerLocale() {}
export function namedFakerLocales() { return []; }
`,
        loader: 'js',
        resolveDir: ROOT,
      }));
    },
  };
}

async function copyPackageFiles(app: string): Promise<void> {
  for (const [name, files] of Object.entries(CARRIED_PACKAGES)) {
    if (files === 'all') {
      await cp(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), { recursive: true });
      continue;
    }
    for (const file of files) {
      const target = join(app, 'node_modules', name, file);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(ROOT, 'node_modules', name, file), target);
    }
  }
}

async function listFiles(directory: string): Promise<{ path: string; bytes: number }[]> {
  const files: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.push({ path: relative(directory, path).split('\\').join('/'), bytes: (await stat(path)).size });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await buildSea();
  process.stdout.write(
    `Built ${relative(process.cwd(), result.executable)}: ${(result.bytes / 1e6).toFixed(1)} MB ` +
      `(${(result.carriedBytes / 1e6).toFixed(1)} MB of devsnap, unpacked on first run) in ${Math.round(result.durationMs / 1000)} s.\n`,
  );
}
