import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectTestDatabase,
  dropDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
} from './databases.js';

/** The Django project under test/fixtures/django-app (see its README). */
export const DJANGO_APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/django-app');

/** Debian's Python sees Debian's Django packages; a pyenv or virtualenv `python3` on PATH does not. */
export function djangoPythonPath(): string {
  return process.env.DEVSNAP_DJANGO_PYTHON || '/usr/bin/python3';
}

export interface ManageResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Runs `manage.py <args>` against `databaseUrl` and returns its output, whatever the exit code. */
export function manage(
  databaseUrl: string,
  args: readonly string[],
  options: { readonly timeoutMs?: number } = {},
): Promise<ManageResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DJANGO_SETTINGS_MODULE: 'djangoapp.settings',
    // No __pycache__ in the fixture folder: it would change the template's hash and litter the repo.
    PYTHONDONTWRITEBYTECODE: '1',
  };
  for (const name of ['PYTHONHOME', 'PYTHONPATH', 'PYTHONSTARTUP']) delete env[name];
  return new Promise((resolve, reject) => {
    execFile(
      djangoPythonPath(),
      ['manage.py', ...args],
      { cwd: DJANGO_APP_DIR, env, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 300_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(
            new Error(`could not run ${djangoPythonPath()} manage.py ${args.join(' ')}: ${error.message}`),
          );
          return;
        }
        resolve({ stdout, stderr, exitCode: typeof error?.code === 'number' ? error.code : 0 });
      },
    );
  });
}

/** Runs `manage.py <args>` and returns stdout; a non-zero exit throws with Django's stderr. */
export async function manageOrThrow(databaseUrl: string, args: readonly string[]): Promise<string> {
  const result = await manage(databaseUrl, args);
  const missing = /No module named '(django|taggit|guardian|reversion|psycopg2)'/.exec(result.stderr);
  if (missing) {
    throw new Error(
      `${djangoPythonPath()} has no ${missing[1]}: run \`npx tsx tools/ensure-django-packages.ts\` (npm test runs it).`,
    );
  }
  if (result.exitCode !== 0) {
    throw new Error(`manage.py ${args.join(' ')} exited with ${result.exitCode}:\n${result.stderr}`);
  }
  return result.stdout;
}

/** Runs Python inside the configured Django (`manage.py shell -c`) and returns what it printed. */
export function djangoPython(databaseUrl: string, code: string): Promise<string> {
  return manageOrThrow(databaseUrl, ['shell', '-c', code]);
}

/** Every personal value the seed writes somewhere in the database, by kind. */
export interface DjangoPersonalValues {
  readonly fullNames: readonly string[];
  readonly firstNames: readonly string[];
  readonly lastNames: readonly string[];
  readonly usernames: readonly string[];
  readonly emails: readonly string[];
  readonly phones: readonly string[];
  readonly streets: readonly string[];
  readonly cities: readonly string[];
  readonly postcodes: readonly string[];
}

let personalValues: Promise<DjangoPersonalValues> | undefined;

/**
 * The seed's personal values. The seed is deterministic, so `manage.py seed --personal-values`
 * regenerates them in memory (about a second) without reading any database.
 */
export function seededPersonalValues(): Promise<DjangoPersonalValues> {
  personalValues ??= (async () => {
    const stdout = await manageOrThrow(serverUrl('unused'), ['seed', '--personal-values']);
    const raw = JSON.parse(stdout) as Record<string, string[]>;
    const kind = (name: string): readonly string[] => {
      const values = raw[name];
      if (!Array.isArray(values)) throw new Error(`seed --personal-values printed no "${name}"`);
      return values;
    };
    return {
      fullNames: kind('full_names'),
      firstNames: kind('first_names'),
      lastNames: kind('last_names'),
      usernames: kind('usernames'),
      emails: kind('emails'),
      phones: kind('phones'),
      streets: kind('streets'),
      cities: kind('cities'),
      postcodes: kind('postcodes'),
    };
  })();
  return personalValues;
}

const TEMPLATE_PREFIX = 'devsnap_django_tpl_';
// One key for every process building the template: pg_advisory_lock(int, int) namespaces it.
const TEMPLATE_LOCK = [0x64657673, 0x646a616e] as const;

async function fixtureFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '__pycache__' || entry.name.endsWith('.pyc')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await fixtureFiles(path)));
    else files.push(path);
  }
  return files.sort();
}

/** A hash of the fixture's files: a changed model, migration or seed gets a template of its own. */
export async function djangoFixtureHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await fixtureFiles(DJANGO_APP_DIR)) {
    hash
      .update(relative(DJANGO_APP_DIR, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function templateExists(name: string): Promise<boolean> {
  return withAdmin(async (admin) => {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  });
}

/** What `manage.py seed` reports: its run time and the rows it wrote per table. */
export interface SeedReport {
  readonly seconds: number;
  readonly rows: Readonly<Record<string, number>>;
}

/** Runs Django's migrations and then the seed on an empty database. */
export async function migrateAndSeed(databaseUrl: string): Promise<SeedReport> {
  await manageOrThrow(databaseUrl, ['migrate', '--no-input', '-v', '0']);
  return JSON.parse(await manageOrThrow(databaseUrl, ['seed'])) as SeedReport;
}

/** Migrates and seeds a new database under a temporary name, then renames it to `name`. */
async function buildTemplate(name: string): Promise<void> {
  const building = `${name}_building`;
  await dropDatabase(building); // left over by a run that was killed while building
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${building}" TEMPLATE template0 ENCODING 'UTF8'`));
  try {
    await migrateAndSeed(serverUrl(building));
    await withAdmin(async (admin) => {
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
      // Nobody may connect to it: CREATE DATABASE … TEMPLATE refuses a template that has sessions.
      await admin.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    });
  } catch (error) {
    await dropDatabase(building);
    throw error;
  }
}

/** Drops templates of older fixture versions; one still in use elsewhere is left alone. */
async function dropStaleTemplates(current: string): Promise<void> {
  await withAdmin(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2
       AND NOT datname LIKE '%\\_building'`,
      [TEMPLATE_PREFIX, current],
    );
    for (const { datname } of rows) {
      try {
        await admin.query(`ALTER DATABASE "${datname}" WITH IS_TEMPLATE false`);
        await admin.query(`DROP DATABASE "${datname}"`);
      } catch {
        // Being cloned by another run right now: that run's next build drops it.
      }
    }
  });
}

let template: Promise<string> | undefined;

/**
 * The name of the migrated, seeded template database for the fixture as it is now. Built once per
 * server: test files run in two forks, so the build holds an advisory lock and the second fork
 * waits for it and then finds the template ready.
 */
export function djangoTemplate(): Promise<string> {
  template ??= (async () => {
    const name = `${TEMPLATE_PREFIX}${await djangoFixtureHash()}`;
    if (await templateExists(name)) return name;
    await withAdmin(async (admin) => {
      await admin.query('SELECT pg_advisory_lock($1, $2)', [...TEMPLATE_LOCK]);
      try {
        if (!(await templateExists(name))) {
          await buildTemplate(name);
          await dropStaleTemplates(name);
        }
      } finally {
        await admin.query('SELECT pg_advisory_unlock($1, $2)', [...TEMPLATE_LOCK]);
      }
    });
    return name;
  })();
  template.catch(() => {
    template = undefined;
  });
  return template;
}

/**
 * A fresh database holding the migrated, seeded Django application, cloned from the template
 * (about a second); `drop()` removes it. `name` defaults to a unique `django_…` name.
 */
export async function createDjangoDatabase(name = uniqueDatabaseName('django')): Promise<TestDatabase> {
  const source = await djangoTemplate();
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${source}"`));
  return connectTestDatabase(name);
}
