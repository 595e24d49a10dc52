/**
 * Bundles one export-pipeline handler for Lambda into a directory: `index.mjs` (one minified,
 * tree-shaken ES module holding the handler, the team's config and every dependency) and, only in
 * the steps that use them, parquet-wasm's binary for Node gzipped (`parquet_wasm_bg.wasm.gz`) and
 * PostgreSQL's parser (libpg-query, which the sources' read-only guard needs), `libpg-query.wasm`.
 * Nothing else: no node_modules. Each asset stays within 8 MB unzipped (`npm run bench:startup`).
 *
 * - The config is compiled in (handler-config.ts is swapped for a module importing it), and its
 *   `devsnap` and `devsnap/strategies` imports are the handler's own modules, so there is one copy
 *   of devsnap in the bundle and no config file beside it.
 * - faker goes in only as English plus the locales the config's fake() rules name (faker-locales.ts
 *   is swapped for static imports of those), never the package with all 70-odd locales. The person
 *   name detector's name lists of every locale are cut down to the names themselves. zod goes in
 *   with its English messages only (devsnap sets no other locale).
 * - What a step never does is left out (see STEP_USES): the finalize step reads no config (nor
 *   faker) and no database (no SQL parser); only the steps that write Parquet carry parquet-wasm.
 * - parquet-wasm's 4.9 MB binary ships gzipped (1.7 MB) and is inflated when the first Parquet file
 *   is written (about 20 ms, beside the 25–30 ms compile), not at init: with it uncompressed, the
 *   export step could not fit in 8 MB beside libpg-query and the JavaScript.
 *
 * Run by ExportPipeline at synth (`node --import tsx infra/lambda-bundle.ts '<request json>'`: CDK's
 * local bundling is synchronous, esbuild's plugins are not) and by the bench for bundle sizes.
 */
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PARQUET_WASM = join(ROOT, 'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm');
export const PARQUET_WASM_GZ = 'parquet_wasm_bg.wasm.gz';
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
/** How the pipeline reads the database: the RDS Data API, or pg mode (a direct connection). */
export type PipelineSource = 'rds-data' | 'pg';

export interface LambdaBundleRequest {
  readonly step: PipelineStep;
  /** The team's devsnap.config.ts (any form loadConfig reads). */
  readonly configPath: string;
  readonly outdir: string;
  /** @default 'rds-data' */
  readonly source?: PipelineSource;
}

interface StepUses {
  readonly config: boolean;
  /** Reads the source database, through a source whose read-only guard parses SQL. */
  readonly database: boolean;
  readonly parquet: boolean;
}

/**
 * What each step's code does, and so what its bundle carries. In pg mode the plan step exports every
 * table itself (a direct connection cannot share its snapshot), so it writes Parquet; with the Data
 * API only the export step does. Finalize joins manifests and moves pointers in S3.
 */
export function stepUses(step: PipelineStep, source: PipelineSource = 'rds-data'): StepUses {
  switch (step) {
    case 'plan':
      return { config: true, database: true, parquet: source === 'pg' };
    case 'export':
      return { config: true, database: true, parquet: true };
    case 'finalize':
      return { config: false, database: false, parquet: false };
  }
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

export async function bundleLambda(request: LambdaBundleRequest): Promise<LambdaBundle> {
  const { step, configPath, outdir } = request;
  const uses = stepUses(step, request.source);
  const withConfig = uses.config;
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
      zodEnglishOnlyPlugin(),
      leftOutPlugin(step, uses),
      gzippedParquetWasmPlugin(),
    ],
  });
  const names = ['index.mjs'];
  if (uses.parquet) {
    // The default level: level 9 saves 0.2 % (1,684,501 bytes against 1,687,143).
    await writeFile(join(outdir, PARQUET_WASM_GZ), await promisify(gzip)(await readFile(PARQUET_WASM)));
    names.push(PARQUET_WASM_GZ);
  }
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
        contents: await localeNamesModule(),
        loader: 'js',
      }));
    },
  };
}

/** zod's `locales` namespace (50-odd languages, 266 kB) becomes English only, the one devsnap uses. */
function zodEnglishOnlyPlugin(): Plugin {
  return {
    name: 'devsnap-zod-english',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
        if (!/[/\\]node_modules[/\\]zod[/\\]/.test(args.importer)) return undefined;
        return { path: 'zod-locales', namespace: 'devsnap-zod' };
      });
      build.onLoad({ filter: /.*/, namespace: 'devsnap-zod' }, () => ({
        contents: "export { default as en } from './en.js';",
        loader: 'js',
        resolveDir: join(ROOT, 'node_modules/zod/v4/locales'),
      }));
    },
  };
}

/**
 * Packages a step never uses become stubs that say so when called: the bundle would otherwise carry
 * them (begin-export and finalize-export share modules with the writers and readers). A new name
 * imported from one of them fails the build ("No matching export"): add it here.
 */
const LEFT_OUT: Readonly<Record<string, { unless: keyof StepUses; exports: readonly string[] }>> = {
  // Imported with import() when the first file is written: the stub throws when it is loaded.
  'parquet-wasm': { unless: 'parquet', exports: [] },
  'libpg-query': { unless: 'database', exports: ['loadModule', 'parseSync', 'scanSync'] },
  'pgsql-deparser': { unless: 'database', exports: ['deparseSync'] },
};

const USE_WORDS: Readonly<Record<keyof StepUses, string>> = {
  config: 'reads no config',
  database: 'reads no database',
  parquet: 'writes no Parquet',
};

function leftOutPlugin(step: PipelineStep, uses: StepUses): Plugin {
  const leftOut = Object.entries(LEFT_OUT).filter(([, { unless }]) => !uses[unless]);
  return {
    name: 'devsnap-left-out',
    setup(build) {
      for (const [name, { unless, exports }] of leftOut) {
        build.onResolve({ filter: new RegExp(`^${name}$`) }, () => ({
          path: name,
          namespace: 'devsnap-left-out',
        }));
        const message = JSON.stringify(
          `The ${step} step's bundle carries no ${name}: stepUses in infra/lambda-bundle.ts says it ${USE_WORDS[unless]}. Correct it there and redeploy.`,
        );
        build.onLoad({ filter: new RegExp(`^${name}$`), namespace: 'devsnap-left-out' }, () => ({
          contents:
            exports.length === 0
              ? `throw new Error(${message});\n`
              : `const leftOut = () => { throw new Error(${message}); };\nexport { ${exports.map((e) => `leftOut as ${e}`).join(', ')} };\n`,
          loader: 'js',
        }));
      }
    },
  };
}

/** parquet-wasm's Node loader reads parquet_wasm_bg.wasm beside it; in a bundle it inflates the .gz. */
function gzippedParquetWasmPlugin(): Plugin {
  const read = "const wasmBytes = require('fs').readFileSync(wasmPath);";
  return {
    name: 'devsnap-gzipped-parquet-wasm',
    setup(build) {
      build.onLoad(
        { filter: /[/\\]node_modules[/\\]parquet-wasm[/\\]node[/\\]parquet_wasm\.js$/ },
        async (args) => {
          const code = await readFile(args.path, 'utf8');
          if (code.split(read).length !== 2) {
            return {
              errors: [
                {
                  text: `parquet-wasm's loader no longer reads its binary with \`${read}\`: update infra/lambda-bundle.ts`,
                },
              ],
            };
          }
          return {
            contents: code.replace(
              read,
              `const wasmBytes = require('zlib').gunzipSync(require('fs').readFileSync(\`\${wasmPath}.gz\`));`,
            ),
            loader: 'js',
          };
        },
      );
    },
  };
}

/**
 * What name-dictionaries.ts reads of faker's locales — every locale's person names and English
 * words — as one list of each, without the repeats (en_GB, en_US and en_AU share most names). Each
 * name list is one string split at load: a JSON array spends two more bytes a name on quotes.
 */
async function localeNamesModule(): Promise<string> {
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
  // Names are letters, apostrophes and hyphens (see collect): a comma separates them safely.
  const list = (names: Set<string>) => `${JSON.stringify([...names].sort().join(','))}.split(',')`;
  return `export const allLocales = { en: { person: { first_name: ${list(given)}, last_name: ${list(family)} }, word: ${JSON.stringify(allLocales.en?.word)} } };`;
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
