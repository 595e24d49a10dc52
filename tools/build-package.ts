/**
 * Builds the npm package into dist/ (`npm run build`; `prepare` runs it on `npm ci` and `npm pack`):
 *
 * - the CLI and the two public entry points (`devsnap`, `devsnap/strategies`) as ES modules, in one
 *   esbuild run with code splitting, so the three share one copy of every module (a config's
 *   `import … from 'devsnap'` gets the very objects the CLI runs) and each `await import()` a command
 *   makes stays a chunk of its own that `--help` never reads. Dependencies stay in node_modules.
 * - type declarations for the two entry points, emitted by TypeScript (7 emits .d.ts natively).
 *
 * Not minified: a bug's stack trace should stay readable in an installed package.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';

export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What dist/ is built from: a change to any of these makes the build stale. */
const SOURCES = [
  'core',
  'cli',
  'strategies',
  'package.json',
  'tsconfig.build.json',
  'tools/build-package.ts',
];
const STAMP = 'dist/.build-stamp';

/**
 * How the CLI is bundled, for the package and the single executable alike: ES modules, split so that
 * each `await import()` of a command stays a chunk of its own that `--help` never reads.
 */
export const CLI_BUNDLE = {
  absWorkingDir: PACKAGE_ROOT,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
} as const satisfies BuildOptions;

export interface PackageBuild {
  /** Bytes of each JavaScript file in dist/ (not the declarations), by path relative to dist/. */
  readonly files: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

export async function buildPackage(root = PACKAGE_ROOT): Promise<PackageBuild> {
  const started = performance.now();
  const dist = join(root, 'dist');
  await rm(dist, { recursive: true, force: true });
  const [result] = await Promise.all([
    build({
      ...CLI_BUNDLE,
      absWorkingDir: root,
      entryPoints: { cli: 'cli/main.ts', index: 'core/index.ts', strategies: 'strategies/index.ts' },
      outdir: 'dist',
      packages: 'external',
      metafile: true,
      logLevel: 'warning',
    }),
    promisify(execFile)(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: root,
    }).catch((error: { stdout?: string }) => {
      throw new Error(`The type declarations did not build:\n${error.stdout ?? String(error)}`);
    }),
  ]);
  await writeFile(join(root, STAMP), `${new Date().toISOString()}\n`);
  const files = Object.fromEntries(
    Object.entries(result.metafile.outputs).map(([path, output]) => [
      path.replace(/^dist\//, ''),
      output.bytes,
    ]),
  );
  return { files, durationMs: performance.now() - started };
}

/** True when dist/ is missing or older than a file it is built from (the test setup rebuilds then). */
export async function packageBuildIsStale(root = PACKAGE_ROOT): Promise<boolean> {
  const built = await stat(join(root, STAMP)).then(
    (s) => s.mtimeMs,
    () => null,
  );
  if (built === null) return true;
  for (const source of SOURCES) {
    if ((await newestModification(join(root, source))) > built) return true;
  }
  return false;
}

async function newestModification(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    const modified = (await stat(join(entry.parentPath, entry.name))).mtimeMs;
    if (modified > newest) newest = modified;
  }
  return newest;
}

// `--if-stale` (the prepare script): npm pack right after a build, or a test run, packs that build.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--if-stale') && !(await packageBuildIsStale())) {
    process.stdout.write('dist/ is up to date.\n');
    process.exit(0);
  }
  await mkdir(join(PACKAGE_ROOT, 'dist'), { recursive: true });
  const { files, durationMs } = await buildPackage();
  const total = Object.values(files).reduce((sum, bytes) => sum + bytes, 0);
  process.stdout.write(
    `Built dist/ in ${Math.round(durationMs)} ms: ${Object.keys(files).length} files, ${Math.round(total / 1024)} KiB of JavaScript.\n`,
  );
}
