// Runs before `npm test`: the Django application the tests build needs Debian's Django packages.
// Installs them with apt-get when this user can (root, or sudo without a password); otherwise stops
// with one line naming the command to run. A test run never skips the Django tests instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGES = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '../test/fixtures/django-app/debian-packages.txt'),
  'utf8',
)
  .split('\n')
  .map((line) => line.trim())
  .filter(Boolean);
const PYTHON = process.env.DEVSNAP_DJANGO_PYTHON || '/usr/bin/python3';
const PROBE = 'import django, taggit, guardian, reversion, psycopg2; print(django.get_version())';
const INSTALL = `apt-get install -y ${PACKAGES.join(' ')}`;

function djangoVersion(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', PROBE], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** `apt-get` as root, `sudo -n apt-get` where sudo needs no password, else undefined. */
function aptGet(): string[] | undefined {
  if (process.getuid?.() === 0) return ['apt-get'];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n', 'apt-get'] : undefined;
}

function install(apt: string[]): void {
  const run = (args: string[]) =>
    execFileSync(apt[0]!, [...apt.slice(1), ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const args = ['install', '-y', '--no-install-recommends', ...PACKAGES];
  try {
    run(args);
  } catch {
    // A fresh machine's package lists may be missing or stale.
    run(['update']);
    run(args);
  }
}

const found = djangoVersion();
if (!found) {
  if (process.env.DEVSNAP_DJANGO_PYTHON) {
    fail(
      `${PYTHON} (DEVSNAP_DJANGO_PYTHON) cannot import Django 3.2 with taggit, guardian, reversion and psycopg2.`,
    );
  }
  const apt = aptGet();
  if (!apt) fail(`The tests need Debian's Django packages: run \`sudo ${INSTALL}\`, then npm test again.`);
  process.stderr.write(`Installing the Django test application's Debian packages: ${INSTALL}\n`);
  try {
    install(apt);
  } catch {
    fail(`Could not install the Django test application's packages: run \`sudo ${INSTALL}\` and retry.`);
  }
  const installed = djangoVersion();
  if (!installed) fail(`${PYTHON} still cannot import Django after \`${INSTALL}\`.`);
} else if (!found.startsWith('3.2.')) {
  fail(
    `The Django test application needs Django 3.2 (its migrations were made with it); ${PYTHON} has ${found}.`,
  );
}
