/**
 * Bundles one export-pipeline handler for Lambda into a directory: `index.mjs` (one minified,
 * tree-shaken ES module holding the handler, the team's config and every dependency) and the one
 * parquet-wasm binary Node loads, `parquet_wasm_bg.wasm`, and PostgreSQL's parser (libpg-query,
 * which the sources' read-only guard needs), `libpg-query.wasm`. Nothing else: no node_modules.
 *
 * - The config is compiled in (handler-config.ts is swapped for a module importing it), and its
 *   `devsnap` and `devsnap/strategies` imports are the handler's own modules, so there is one copy
 *   of devsnap in the bundle and no config file beside it.
 * - faker goes in only as English plus the locales the config's fake() rules name (faker-locales.ts
 *   is swapped for static imports of those), never the package with all 70-odd locales. The person
 *   name detector's name lists of every locale are cut down to the names themselves.
 * - The finalize step reads no config, so it carries none of it (nor faker).
 *
 * Run by ExportPipeline at synth (`node --import tsx infra/lambda-bundle.ts '<request json>'`: CDK's
 * local bundling is synchronous, esbuild's plugins are not) and by the bench for bundle sizes.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PARQUET_WASM = join(ROOT, 'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm');
/** Emscripten builds read their .wasm from beside their code, that is beside index.mjs: by package. */
const WASM_BESIDE_CODE: Readonly<Record<string, string>> = {
  'libpg-query': join(ROOT, 'node_modules/libpg-query/wasm/libpg-query.wasm'),
};
/** CommonJS dependencies (pg, parquet-wasm's Node build) call require() and read __dirname in an ES module. */
export const LAMBDA_BANNER =
  "import { createRequire as __devsnapRequire } from 'node:module'; import { fileURLToPath as __devsnapPath } from 'node:url'; " +
  'const require = __devsnapRequire(import.meta.url); const __filename = __devsnapPath(import.meta.url); ' +
  "const __dirname = __devsnapPath(new URL('.', import.meta.url));";

export type PipelineStep = 'plan' | 'export' | 'finalize';

export interface LambdaBundleRequest {
  readonly step: PipelineStep;
  /** The team's devsnap.config.ts (any form loadConfig reads). */
  readonly configPath: string;
  readonly outdir: string;
}

export interface LambdaBundle {
  /** Bytes of each file in the bundle directory, unzipped. */
  readonly files: Readonly<Record<string, number>>;
  readonly totalBytes: number;
  /** Bytes of index.mjs per npm package (or devsnap's own top-level folder), largest first. */
  readonly byPackage: readonly (readonly [string, number])[];
  /** faker locales carried. */
  readonly fakerLocales: readonly string[];
}

const STEPS_WITH_CONFIG: ReadonlySet<PipelineStep> = new Set(['plan', 'export']);

export async function bundleLambda(request: LambdaBundleRequest): Promise<LambdaBundle> {
  const { step, configPath, outdir } = request;
  const withConfig = STEPS_WITH_CONFIG.has(step);
  // Evaluating the config checks it compiles and tells which faker locales its fake() rules name.
  const locales = withConfig ? await configFakerLocales(configPath) : [];
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, 'functions', `${step}-handler.ts`)],
    outfile: join(outdir, 'index.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    treeShaking: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    banner: { js: LAMBDA_BANNER },
    // Only reached when a config is loaded from a file, which a bundle never does.
    external: ['esbuild'],
    plugins: [
      compiledConfigPlugin(withConfig ? configPath : null),
      fakerPlugin(['en', ...locales], withConfig),
    ],
  });
  await copyFile(PARQUET_WASM, join(outdir, 'parquet_wasm_bg.wasm'));
  const names = ['index.mjs', 'parquet_wasm_bg.wasm'];
  const inputs = Object.keys(result.metafile.inputs);
  for (const [name, wasm] of Object.entries(WASM_BESIDE_CODE)) {
    if (!inputs.some((input) => input.includes(`node_modules/${name}/`))) continue;
    names.push(basename(wasm));
    await copyFile(wasm, join(outdir, basename(wasm)));
  }
  const files: Record<string, number> = {};
  for (const name of names) files[name] = (await stat(join(outdir, name))).size;
  return {
    files,
    totalBytes: Object.values(files).reduce((sum, bytes) => sum + bytes, 0),
    byPackage: bytesByPackage(result.metafile),
    fakerLocales: withConfig ? ['en', ...locales] : [],
  };
}

async function configFakerLocales(configPath: string): Promise<string[]> {
  const { loadConfig } = await import('../core/config/config-loader.js');
  const { namedFakerLocales } = await import('../strategies/anonymisers/faker-locales.js');
  await loadConfig(configPath);
  return namedFakerLocales();
}

/** handler-config.ts becomes the compiled-in config; `devsnap` imports become devsnap's own sources. */
function compiledConfigPlugin(configPath: string | null): Plugin {
  return {
    name: 'devsnap-compiled-config',
    setup(build) {
      build.onLoad({ filter: /[/\\]functions[/\\]handler-config\.ts$/ }, () => ({
        contents: configPath
          ? `import * as module from ${JSON.stringify(configPath)};\n` +
            // Through a variable: a config may export either, and esbuild warns about the one that is absent.
            'const exports = module;\nconst config = exports.default ?? exports.config;\n' +
            'export async function handlerConfig() { return config; }\n'
          : "export async function handlerConfig() { throw new Error('This step reads no config.'); }\n",
        loader: 'js',
        resolveDir: join(ROOT, 'functions'),
      }));
      build.onResolve({ filter: /^devsnap(\/strategies)?$/ }, (args) => ({
        path: join(ROOT, args.path === 'devsnap' ? 'core/index.ts' : 'strategies/index.ts'),
      }));
    },
  };
}

/**
 * faker-locales.ts becomes static imports of the given locales; the whole package (which only the
 * person-name detector imports, for the name lists of every locale) becomes those name lists.
 */
function fakerPlugin(locales: readonly string[], withFaker: boolean): Plugin {
  return {
    name: 'devsnap-faker-locales',
    setup(build) {
      build.onLoad({ filter: /[/\\]strategies[/\\]anonymisers[/\\]faker-locales\.ts$/ }, () => ({
        contents: withFaker
          ? `${locales.map((locale) => `import { faker as ${locale} } from '@faker-js/faker/locale/${locale}';`).join('\n')}
const locales = { ${locales.join(', ')} };
export async function loadFakerLocale(locale) {
  const faker = locales[locale];
  if (!faker) throw new Error(\`faker locale \${locale} is not in this bundle; redeploy after changing the config\`);
  return faker;
}
export function loadEnglishFaker() { return en; }
export function noteFakerLocale() {}
export function namedFakerLocales() { return []; }
`
          : `export async function loadFakerLocale() { throw new Error('This step carries no faker.'); }
export function loadEnglishFaker() { throw new Error('This step carries no faker.'); }
export function noteFakerLocale() {}
export function namedFakerLocales() { return []; }
`,
        loader: 'js',
        resolveDir: ROOT,
      }));
      build.onResolve({ filter: /^@faker-js\/faker$/ }, (args) => {
        if (!/[/\\]name-dictionaries\.ts$/.test(args.importer)) {
          return {
            errors: [
              {
                text: `${args.importer} imports all of @faker-js/faker (every locale, 3.4 MB in a Lambda bundle); import one locale through strategies/anonymisers/faker-locales.ts`,
              },
            ],
          };
        }
        return { path: 'all-locales-names', namespace: 'devsnap-faker' };
      });
      build.onLoad({ filter: /.*/, namespace: 'devsnap-faker' }, async () => ({
        contents: `export const allLocales = ${JSON.stringify(await localeNames())};`,
        loader: 'js',
      }));
    },
  };
}

/**
 * What name-dictionaries.ts reads of faker's locales — every locale's person names and English
 * words — as one list of each, without the repeats (en_GB, en_US and en_AU share most names).
 */
async function localeNames(): Promise<Record<string, unknown>> {
  const { allLocales } = (await import('@faker-js/faker')) as unknown as {
    allLocales: Record<string, Record<string, Record<string, unknown> | undefined>>;
  };
  const given = new Set<string>();
  const family = new Set<string>();
  const collect = (into: Set<string>, names: unknown): void => {
    if (Array.isArray(names)) {
      // Only names the detector can match: capitalised, three letters or more (not CJK scripts).
      for (const name of names) {
        if (typeof name === 'string' && name.length >= 3 && /^\p{Lu}[\p{L}'’-]+$/u.test(name)) into.add(name);
      }
    } else if (names && typeof names === 'object') {
      for (const list of Object.values(names)) collect(into, list);
    }
  };
  for (const definitions of Object.values(allLocales)) {
    collect(given, definitions.person?.first_name);
    collect(given, definitions.person?.middle_name);
    collect(family, definitions.person?.last_name);
  }
  return {
    en: {
      person: { first_name: [...given].sort(), last_name: [...family].sort() },
      word: allLocales.en?.word,
    },
  };
}

function bytesByPackage(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? `devsnap ${input.split(/[/\\:]/)[0]}`;
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const request = JSON.parse(process.argv[2] ?? '{}') as LambdaBundleRequest;
  const bundle = await bundleLambda(request);
  process.stdout.write(`${JSON.stringify(bundle)}\n`);
}
