import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config-loader.js';
import { defineConfig } from '../../core/index.js';
import { fake, randomSample } from '../../strategies/index.js';

/** What `npm init -y` writes today, what an ESM project has, and what a Django or Rails repository has. */
const FOLDERS = {
  'no package.json': undefined,
  'a CommonJS package.json': { name: 'app', type: 'commonjs' },
  'an ESM package.json': { name: 'app', type: 'module' },
} as const;

const ESM_CONFIG = `import { defineConfig } from 'devsnap';
import { fake, randomSample } from 'devsnap/strategies';
import { seed } from './seed';

const rows: number = 25;
const config = defineConfig({
  tables: { 'public.users': [randomSample({ count: rows, seed })] },
  anonymise: { rules: { email: fake('internet.email') } },
  maxRows: { total: rows * 2 },
});
export default Object.assign(config, { loadedWith: { defineConfig, fake, randomSample, here: import.meta.url } });
`;
const CJS_CONFIG = `const { defineConfig } = require('devsnap');
const { fake, randomSample } = require('devsnap/strategies');
module.exports = defineConfig({
  tables: { 'public.users': [randomSample({ count: 25, seed: 3 })] },
  anonymise: { rules: { email: fake('internet.email') } },
  maxRows: { total: 50 },
});
module.exports.loadedWith = { defineConfig, fake, randomSample, here: __filename };
`;

describe('loading a config in any folder, with devsnap not installed there', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'devsnap-config-loader-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function folder(name: string, packageJson: object | undefined): Promise<string> {
    const directory = join(root, name.replace(/\W+/g, '-'));
    await mkdir(directory, { recursive: true });
    if (packageJson) await writeFile(join(directory, 'package.json'), JSON.stringify(packageJson));
    await writeFile(join(directory, 'seed.ts'), 'export const seed: number = 3;\n');
    return directory;
  }

  for (const [name, packageJson] of Object.entries(FOLDERS)) {
    it.each([
      ['devsnap.config.ts', ESM_CONFIG],
      ['devsnap.config.mts', ESM_CONFIG],
      ['devsnap.config.js', ESM_CONFIG.replace(': number', '')],
      ['devsnap.config.mjs', ESM_CONFIG.replace(': number', '')],
      ['devsnap.config.cjs', CJS_CONFIG],
    ])(`loads %s from a folder with ${name}, bound to the running devsnap`, async (file, text) => {
      const directory = await folder(`${name}-${file}`, packageJson);
      await writeFile(join(directory, file), text);
      // Found without --config, as the only config file in the folder.
      const { config, path } = await loadConfig(undefined, directory);
      expect(path).toBe(join(directory, file));
      expect(config).toMatchObject({ maxRows: { total: 50 } });
      const [strategy] = (config.tables?.['public.users'] ?? []) as unknown as { describe(): string }[];
      expect(strategy?.describe()).toBe(randomSample({ count: 25, seed: 3 }).describe());
      expect(config.anonymise?.rules?.email).toMatchObject({ kind: 'fake' });
      // The very functions the engine runs, not a second copy of devsnap.
      const { loadedWith } = config as unknown as {
        loadedWith: { defineConfig: unknown; fake: unknown; randomSample: unknown; here: string };
      };
      expect(loadedWith.defineConfig).toBe(defineConfig);
      expect(loadedWith.fake).toBe(fake);
      expect(loadedWith.randomSample).toBe(randomSample);
      // import.meta.url and __filename name the config file, not a compiled copy.
      expect(loadedWith.here).toContain(file);
    });
  }

  it('reports a config that throws with its own message and line', async () => {
    const directory = await folder('throws', FOLDERS['a CommonJS package.json']);
    await writeFile(
      join(directory, 'team.config.ts'),
      "import { defineConfig } from 'devsnap';\n\nconst rows = Number(process.env.NO_SUCH_ROWS);\n" +
        "if (Number.isNaN(rows)) throw new Error('NO_SUCH_ROWS must be a number');\n" +
        'export default defineConfig({ maxRows: { total: rows } });\n',
    );
    const error = await loadConfig('team.config.ts', directory).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UsageError', exitCode: 2 });
    expect((error as Error).message).toBe(
      `Config file team.config.ts threw: NO_SUCH_ROWS must be a number\n  at ${join(directory, 'team.config.ts')}:4:31  ` +
        "if (Number.isNaN(rows)) throw new Error('NO_SUCH_ROWS must be a number');",
    );
  });

  it('names the given file, line and column of a syntax error, and of an import that does not exist', async () => {
    const directory = await folder('broken', undefined);
    await writeFile(join(directory, 'syntax.config.ts'), 'export default {\n  tables: { users: [ }\n};\n');
    await expect(loadConfig('syntax.config.ts', directory)).rejects.toThrow(
      `Config file syntax.config.ts could not be compiled:\n  ${join(directory, 'syntax.config.ts')}:2:22: Unexpected "}"`,
    );
    await writeFile(
      join(directory, 'export.config.ts'),
      "import { defineConfig, nothing } from 'devsnap';\nexport default defineConfig({ nothing });\n",
    );
    const noExport = await loadConfig('export.config.ts', directory).catch((e: unknown) => e);
    expect((noExport as Error).message).toContain(
      `${join(directory, 'export.config.ts')}:1:24: No matching export in "devsnap:devsnap" for import "nothing"`,
    );
    expect((noExport as { hint: string }).hint).toMatch(/from "devsnap", strategies and anonymisers from/);
    await writeFile(
      join(directory, 'package.config.ts'),
      "import pad from 'left-pad';\nexport default { pad };\n",
    );
    const noPackage = await loadConfig('package.config.ts', directory).catch((e: unknown) => e);
    expect((noPackage as Error).message).toContain(
      `${join(directory, 'package.config.ts')}:1:17: Could not resolve "left-pad"`,
    );
    expect((noPackage as { hint: string }).hint).toMatch(
      /installed beside the config \(npm i -D <package>\)/,
    );
  });

  it('names the file as given when it is missing or exports no config', async () => {
    const directory = await folder('missing', undefined);
    await expect(loadConfig('configs/devsnap.config.ts', directory)).rejects.toThrow(
      `Config file configs/devsnap.config.ts does not exist (looked for ${join(directory, 'configs/devsnap.config.ts')}).`,
    );
    await writeFile(join(directory, 'number.config.mjs'), 'export default 42;\n');
    await expect(loadConfig('number.config.mjs', directory)).rejects.toThrow(
      'Config file number.config.mjs must export a config object.',
    );
    expect(await loadConfig(undefined, directory)).toEqual({ config: {}, path: null });
  });
});
