import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVSNAP_VERSION } from '../../core/version.js';
import { type CliRun, spawnDevsnap } from '../support/cli-harness.js';

const RECORDER = fileURLToPath(new URL('../support/record-loaded-modules.mjs', import.meta.url));
/** What makes a start slow; a command loads each only when it needs it (see DESIGN.md, "Lazy commands"). */
const HEAVY = ['@faker-js/faker', 'parquet-wasm', 'apache-arrow', '@aws-sdk/', 'esbuild', 'pg'];

describe('start-up of the built CLI loads only what the command uses', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devsnap-startup-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs bin/devsnap.js and returns its result with the npm packages it loaded. */
  async function run(args: string[], label: string): Promise<CliRun & { packages: string[] }> {
    const file = join(dir, `${label}.modules`);
    const result = await spawnDevsnap(args, { DEVSNAP_LOADED_MODULES_FILE: file }, ['--import', RECORDER]);
    const urls = (await readFile(file, 'utf8')).split('\n');
    const packages = new Set(
      urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []),
    );
    return { ...result, packages: [...packages].sort() };
  }

  const heavyIn = (packages: readonly string[]) =>
    packages.filter((name) => HEAVY.some((heavy) => name === heavy || name.startsWith(heavy)));

  it.each([
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['import --help', ['import', '--help']],
    ['export --help', ['export', '--help']],
  ])('`devsnap %s` loads commander and nothing else', async (label, args) => {
    const result = await run(args, label.replace(/\W+/g, '-'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(args[0] === '--version' ? DEVSNAP_VERSION : 'Usage: devsnap');
    expect(result.packages).toEqual(['commander']);
  });

  it('`devsnap list` on a local store reads manifests (zod) without faker, Parquet, Arrow, the AWS SDK, pg or esbuild', async () => {
    // An empty store directory (a missing one is an error, see error-paths.test.ts).
    await mkdir(join(dir, 'store'), { recursive: true });
    const result = await run(['list', '--store', join(dir, 'store')], 'list');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No snapshots in');
    expect(heavyIn(result.packages)).toEqual([]);
  });

  it('the recorder sees a heavy package when one is loaded (`devsnap share` on S3 loads the AWS SDK)', async () => {
    const result = await run(
      ['share', '--store', 's3://devsnap-startup-test/x', '--expires', '99d'],
      'share',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/expires/i);
    expect(heavyIn(result.packages)).toContain('@aws-sdk/client-s3');
  });
});
