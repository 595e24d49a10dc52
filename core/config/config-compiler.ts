import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { DevsnapError, errorMessage, UsageError } from '../errors.js';

/** Where the compiled config finds the running devsnap's modules (set before it is evaluated). */
const RUNNING_DEVSNAP = Symbol.for('devsnap.running-modules');
const PUBLIC_MODULES = ['devsnap', 'devsnap/strategies'] as const;
type PublicModules = Record<(typeof PUBLIC_MODULES)[number], Record<string, unknown>>;

/**
 * Compiles a config file with esbuild and evaluates it. Node alone cannot load every config a user
 * may have: TypeScript needs compiling, the folder's package.json (or none) decides whether `.ts`
 * and `.js` are ES modules or CommonJS, and `devsnap` resolves only where it is installed. So the
 * config and its own relative imports are bundled into one ES module whose `devsnap` and
 * `devsnap/strategies` imports are bound to the modules of the devsnap that is running (global
 * install and npx included: the config gets the very objects the CLI checks), while other packages
 * stay imports of the copies installed beside the config. The bundle is written to a temporary
 * directory, with an inline source map so a config that throws is reported at its own line.
 */
export async function evaluateConfigModule(
  path: string,
  shown: string,
): Promise<{ default?: unknown; config?: unknown }> {
  (globalThis as Record<symbol, unknown>)[RUNNING_DEVSNAP] = await runningDevsnap();
  const directory = await mkdtemp(join(tmpdir(), 'devsnap-config-'));
  try {
    const outfile = join(directory, `${basename(path)}.mjs`);
    await writeFile(outfile, await compileConfig(path, shown, outfile));
    return await evaluate(outfile, path, shown);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function runningDevsnap(): Promise<PublicModules> {
  const [core, strategies] = await Promise.all([import('../index.js'), import('../../strategies/index.js')]);
  return { devsnap: core, 'devsnap/strategies': strategies };
}

async function compileConfig(path: string, shown: string, outfile: string): Promise<string> {
  /** Characters ownLocationPlugin put before each file's first line, to report columns as written. */
  const prefixes = new Map<string, string>();
  try {
    const result = await build({
      entryPoints: [path],
      outfile,
      write: false,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      // CommonJS code in the config (require, __dirname) keeps working inside the ES module.
      banner: {
        js: `import { createRequire as __devsnapCreateRequire } from 'node:module'; const require = __devsnapCreateRequire(${JSON.stringify(pathToFileURL(path).href)});`,
      },
      define: {
        'import.meta.url': '__devsnap_import_meta_url',
        'import.meta.dirname': '__devsnap_dirname',
        'import.meta.filename': '__devsnap_filename',
        __dirname: '__devsnap_dirname',
        __filename: '__devsnap_filename',
      },
      plugins: [runningDevsnapPlugin(), installedPackagesPlugin(), ownLocationPlugin(prefixes)],
    });
    const [output] = result.outputFiles;
    if (!output) throw new Error('esbuild wrote no output');
    return output.text;
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors;
    if (!messages?.length) throw error;
    throw new UsageError(
      `Config file ${shown} could not be compiled:\n${messages.map((message) => `  ${describeMessage(message, prefixes)}`).join('\n')}`,
      { hint: compileHint(messages), cause: error },
    );
  }
}

/** `devsnap` and `devsnap/strategies` become the running devsnap's modules, whatever is installed. */
function runningDevsnapPlugin(): Plugin {
  return {
    name: 'devsnap-running-modules',
    setup(build) {
      build.onResolve({ filter: /^devsnap(\/.*)?$/ }, (args) => {
        if ((PUBLIC_MODULES as readonly string[]).includes(args.path)) {
          return { path: args.path, namespace: 'devsnap' };
        }
        return { errors: [{ text: `devsnap has no module "${args.path}"` }] };
      });
      build.onLoad({ filter: /.*/, namespace: 'devsnap' }, (args) => {
        const modules = (globalThis as Record<symbol, PublicModules>)[RUNNING_DEVSNAP];
        const names = Object.keys(modules?.[args.path as keyof PublicModules] ?? {});
        return {
          contents:
            `const loaded = globalThis[Symbol.for(${JSON.stringify(RUNNING_DEVSNAP.description)})][${JSON.stringify(args.path)}];\n` +
            `export const { ${names.join(', ')} } = loaded;\n`,
          loader: 'js',
        };
      });
    },
  };
}

/**
 * Other packages the config imports are the ones installed beside it: resolved from its folder and
 * imported by absolute URL (the bundle itself lives in a temporary directory).
 */
function installedPackagesPlugin(): Plugin {
  return {
    name: 'devsnap-installed-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('node:')) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'resolving',
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.external) return { path: resolved.path, external: true };
        // require() takes a path, import a URL.
        const path = args.kind === 'require-call' ? resolved.path : pathToFileURL(resolved.path).href;
        return { path, external: true };
      });
    },
  };
}

/**
 * import.meta.url, __dirname and __filename mean the file they are written in, not the bundle: each
 * file of the config gets its own values (on its first line, so line numbers stay as written).
 */
function ownLocationPlugin(prefixes: Map<string, string>): Plugin {
  const loaders = {
    '.ts': 'ts',
    '.mts': 'ts',
    '.cts': 'ts',
    '.js': 'js',
    '.mjs': 'js',
    '.cjs': 'js',
  } as const;
  return {
    name: 'devsnap-own-location',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        const loader = loaders[extname(args.path) as keyof typeof loaders];
        if (!loader || args.path.split(sep).includes('node_modules')) return undefined;
        const source = await readFile(args.path, 'utf8');
        const location =
          `var __devsnap_import_meta_url = ${JSON.stringify(pathToFileURL(args.path).href)}, ` +
          `__devsnap_filename = ${JSON.stringify(args.path)}, __devsnap_dirname = ${JSON.stringify(dirname(args.path))};`;
        // A leading hashbang must stay first.
        const hashbang = /^#![^\n]*/.exec(source)?.[0] ?? '';
        if (!hashbang) prefixes.set(args.path, location);
        return { contents: `${hashbang}${location}${source.slice(hashbang.length)}`, loader };
      });
    },
  };
}

async function evaluate(
  bundle: string,
  path: string,
  shown: string,
): Promise<{ default?: unknown; config?: unknown }> {
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(true);
  try {
    return await import(pathToFileURL(bundle).href);
  } catch (error) {
    // The stack is read while source maps are on, so it names the config's own files and lines.
    const at = await throwingLine(error, path);
    const message = `Config file ${shown} threw: ${errorMessage(error)}${at ? `\n  at ${at}` : ''}`;
    throw new UsageError(message, {
      hint:
        error instanceof DevsnapError && error.hint
          ? error.hint
          : 'Fix the config; `devsnap plan` loads and checks it without exporting.',
      cause: error,
    });
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
  }
}

/** `file:line:column` and the line itself, for the innermost stack frame in the config's own files. */
async function throwingLine(error: unknown, path: string): Promise<string | null> {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const configDirectory = dirname(path);
  for (const match of stack.matchAll(/(file:\/\/[^\s():]+|\/[^\s():]+):(\d+):(\d+)/g)) {
    const [, location = '', line = '', column = ''] = match;
    const file = location.startsWith('file:') ? fileURLToPath(location) : location;
    const own =
      !relative(configDirectory, file).startsWith('..') && !file.split(sep).includes('node_modules');
    if (!own) continue;
    const text = await readFile(file, 'utf8').then(
      (source) => source.split('\n')[Number(line) - 1]?.trim() ?? '',
      () => '',
    );
    return `${displayPath(file)}:${line}:${column}${text ? `  ${text}` : ''}`;
  }
  return null;
}

function describeMessage(message: Message, prefixes: ReadonlyMap<string, string>): string {
  const at = message.location;
  if (!at) return message.text;
  const prefix = at.line === 1 ? (prefixes.get(resolve(at.file)) ?? '') : '';
  const lineText = at.lineText.startsWith(prefix) ? at.lineText.slice(prefix.length) : at.lineText;
  const column = Math.max(at.column - prefix.length, 0) + 1;
  return `${displayPath(resolve(at.file))}:${at.line}:${column}: ${message.text}\n      ${lineText.trim()}`;
}

/** A file as the user would type it: relative inside the working directory, absolute outside it. */
function displayPath(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside && !inside.startsWith('..') ? inside : file;
}

function compileHint(messages: readonly Message[]): string {
  const texts = messages.map((message) => message.text);
  if (texts.some((text) => /^devsnap has no module|^No matching export in "devsnap:/.test(text))) {
    return 'Import defineConfig and the API from "devsnap", strategies and anonymisers from "devsnap/strategies".';
  }
  if (texts.some((text) => text.startsWith('Could not resolve'))) {
    return '"devsnap" and "devsnap/strategies" always resolve; other packages must be installed beside the config (npm i -D <package>).';
  }
  return 'Fix the config where the error points; it may be TypeScript or JavaScript, an ES module or CommonJS.';
}
