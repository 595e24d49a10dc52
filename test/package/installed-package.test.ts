import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSea } from '../../tools/build-sea.js';
import {
  dropDatabase,
  queryDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
} from '../support/databases.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(REPO, 'node_modules/.bin/tsc');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command as a user's shell would: a clean environment, the given folder. */
function run(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      {
        cwd,
        // Test files share one server: an import waits for another's lock instead of failing.
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DEVSNAP_IMPORT_LOCK_WAIT_MS: process.env.DEVSNAP_IMPORT_LOCK_WAIT_MS,
          ...env,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

/**
 * The installed dependencies come from the registry's metadata and npm's cache (which `npm ci` filled
 * with every tarball): `--offline` cannot work, as `npm ci` stores no metadata.
 */
const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn'];

describe('the npm package, packed and installed where users install it', () => {
  let work: string;
  let tarball: string;
  let source: TestDatabase;
  const targets: string[] = [];
  const timings: Record<string, number> = {};
  let npxInstall: string | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'devsnap-package-'));
    // One tarball for every install. prepare skips the build: the test setup just made dist/.
    const packed = await run('npm', ['pack', '--pack-destination', work, '--json'], REPO);
    expect(packed.code, packed.stderr).toBe(0);
    // The JSON report follows what the prepare script printed.
    const report = packed.stdout.slice(packed.stdout.search(/^\[/m));
    const [{ filename, files }] = JSON.parse(report) as [{ filename: string; files: { path: string }[] }];
    tarball = join(work, filename);
    timings.pack = packed.ms;
    const paths = files.map((file) => file.path);
    // Compiled JavaScript and declarations for both entry points; no sources, tests or tsx.
    expect(paths).toEqual(
      expect.arrayContaining([
        'bin/devsnap.js',
        'dist/cli.js',
        'dist/index.js',
        'dist/strategies.js',
        'dist/types/core/index.d.ts',
        'dist/types/strategies/index.d.ts',
      ]),
    );
    expect(paths.filter((path) => /\.ts$/.test(path) && !path.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((path) => /^(test|core|cli|infra|bench)\//.test(path))).toEqual([]);
    source = await createShopDatabase('package');
  }, 300_000);

  afterAll(async () => {
    for (const target of targets) await dropDatabase(target);
    await source?.drop();
    if (work) await rm(work, { recursive: true, force: true });
    if (npxInstall) await rm(npxInstall, { recursive: true, force: true });
    console.info(`npm package timings (ms): ${JSON.stringify(timings)}`);
  });

  /** init → plan → export → import with the installed devsnap, in a project folder; returns the target rows. */
  async function roundTrip(
    devsnap: string,
    project: string,
    label: string,
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<void> {
    const target = uniqueDatabaseName(`package_${label}`);
    targets.push(target);
    const env = {
      ...extraEnv,
      DEVSNAP_SECRET: 'installed-package-test-Qv7Lm2Xr9Kt4Np1Wd6Zs3',
      DEVSNAP_DATABASE_URL: source.url,
    };
    const init = await run(devsnap, ['init'], project, env);
    expect(init.code, init.stderr).toBe(0);
    const config = await readFile(join(project, 'devsnap.config.ts'), 'utf8');
    expect(config).toContain("from 'devsnap'");

    const plan = await run(devsnap, ['plan', '--json'], project, env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ ok: true, command: 'plan' });

    const exported = await run(devsnap, ['export', '--store', 'snapshots', '--json'], project, env);
    expect(exported.code, exported.stderr).toBe(0);
    const { snapshotId, totalRows } = JSON.parse(exported.stdout) as {
      snapshotId: string;
      totalRows: number;
    };
    expect(totalRows).toBeGreaterThan(0);

    const imported = await run(
      devsnap,
      ['import', '--store', 'snapshots', '--database-url', serverUrl(target), '--yes', '--json'],
      project,
      { ...extraEnv, DEVSNAP_SECRET: env.DEVSNAP_SECRET },
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ snapshotId, totalRows });
    const [users] = await queryDatabase<{ n: string }>(
      target,
      'SELECT count(*)::text AS n FROM public.users',
    );
    const [sourceUsers] = await queryDatabase<{ n: string }>(
      source.name,
      'SELECT count(*)::text AS n FROM public.users',
    );
    expect(users?.n).toBe(sourceUsers?.n);
    // The starter config anonymised the e-mails: no source address (user<n>@example.com) reached the copy.
    const leaked = await queryDatabase(target, "SELECT email FROM public.users WHERE email ~ '^user[0-9]+@'");
    expect(leaked).toEqual([]);
    timings[`${label} round trip`] = init.ms + plan.ms + exported.ms + imported.ms;
  }

  it('npm i -g devsnap, used in a Django repository (no package.json): init → plan → export → import', async () => {
    const prefix = join(work, 'global');
    const installed = await run(
      'npm',
      ['install', '--global', '--prefix', prefix, tarball, ...INSTALL_FLAGS],
      work,
    );
    expect(installed.code, installed.stderr).toBe(0);
    // Dev-only engines (aws-local-stepfunctions wants Node 22) are not installed, so no warning.
    expect(installed.stderr).not.toMatch(/EBADENGINE/);
    timings['npm i -g'] = installed.ms;
    const modules = join(prefix, 'lib/node_modules');
    expect(existsSync(join(modules, 'devsnap/node_modules/tsx'))).toBe(false);
    expect(existsSync(join(modules, 'tsx'))).toBe(false);

    const project = join(work, 'django-app');
    await mkdir(project);
    await writeFile(join(project, 'manage.py'), '#!/usr/bin/env python\n');
    const devsnap = join(prefix, 'bin/devsnap');
    const version = await run(devsnap, ['--version'], project);
    expect(version.stdout.trim()).toBe(
      JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version,
    );
    await roundTrip(devsnap, project, 'global');
    // Nothing JavaScript was left in the Python repository but the config and the snapshots.
    expect((await readdir(project)).sort()).toEqual(['devsnap.config.ts', 'manage.py', 'snapshots']);

    // npx devsnap, without installing anything: the same config and store, from npx's cache.
    const npx = ['--yes', '--prefer-offline', '--package', tarball];
    const where = await run('npx', [...npx, '--call', 'command -v devsnap'], project);
    expect(where.code, where.stderr).toBe(0);
    timings['npx (first run, installs)'] = where.ms;
    // npx keeps what it installed under <npm cache>/_npx/<hash>/node_modules/.bin; removed afterwards.
    npxInstall = dirname(dirname(dirname(where.stdout.trim())));
    expect(npxInstall).toMatch(/_npx/);
    const listed = await run(
      'npx',
      [...npx, '--', 'devsnap', 'list', '--store', 'snapshots', '--json'],
      project,
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).snapshots).toHaveLength(1);
    timings['npx devsnap list'] = listed.ms;
  }, 600_000);

  it('the single executable (Node SEA) carries parquet-wasm and esbuild: init → plan → export → import without Node modules installed', async () => {
    const built = await buildSea(join(work, 'sea'));
    timings['build:sea'] = built.durationMs;
    const project = join(work, 'rails-app');
    await mkdir(project);
    await writeFile(join(project, 'Gemfile'), "source 'https://rubygems.org'\n");
    // A cache folder of its own: the first run unpacks the CLI, parquet-wasm and esbuild into it.
    const cache = join(work, 'sea-cache');
    const first = await run(built.executable, ['--version'], project, { DEVSNAP_CACHE_DIR: cache });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version);
    const [unpacked] = await readdir(cache);
    expect(
      existsSync(join(cache, unpacked ?? '', 'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm')),
    ).toBe(true);
    timings['sea first --version'] = first.ms;
    timings['sea --version'] = (
      await run(built.executable, ['--version'], project, { DEVSNAP_CACHE_DIR: cache })
    ).ms;
    await roundTrip(built.executable, project, 'sea', { DEVSNAP_CACHE_DIR: cache });
  }, 600_000);

  it('npm i -D devsnap in a "type": "commonjs" project: init → plan → export → import, and the config type-checks', async () => {
    const project = join(work, 'commonjs-app');
    await mkdir(project);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'commonjs-app', version: '1.0.0', type: 'commonjs', private: true }),
    );
    const installed = await run('npm', ['install', '--save-dev', tarball, ...INSTALL_FLAGS], project);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stderr).not.toMatch(/EBADENGINE/);
    timings['npm i -D'] = installed.ms;
    expect(existsSync(join(project, 'node_modules/tsx'))).toBe(false);

    await roundTrip(join(project, 'node_modules/.bin/devsnap'), project, 'local');
    // Editors get the package's declarations: the generated config type-checks against them.
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', strict: true, noEmit: true, skipLibCheck: false },
        files: ['devsnap.config.ts'],
      }),
    );
    const checked = await run(TSC, ['-p', 'tsconfig.json'], project);
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    // …and a wrong option is a type error, so the types are real, not any.
    await writeFile(
      join(project, 'wrong.ts'),
      "import { randomSample } from 'devsnap/strategies';\nexport const s = randomSample({ count: 'ten' });\n",
    );
    await writeFile(
      join(project, 'tsconfig.wrong.json'),
      JSON.stringify({ extends: './tsconfig.json', files: ['wrong.ts'] }),
    );
    const wrong = await run(TSC, ['-p', 'tsconfig.wrong.json'], project);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toMatch(/wrong\.ts\(2,\d+\): error TS2322/);
  }, 600_000);
});
