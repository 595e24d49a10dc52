import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionError } from '../../core/source/pg-connection.js';
import { serverFailureHint } from '../../core/source/server-failure-hint.js';
import { freePort } from '../../tools/embedded-postgres-server.js';
import { runDevsnap } from '../support/cli-harness.js';
import { serverUrl } from '../support/databases.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/devsnap.js');

describe('every error path: one line, the right exit code, a hint that fits', () => {
  let scratch: string;
  let file: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'devsnap-errors-'));
    file = join(scratch, 'not-a-directory');
    await writeFile(file, 'x');
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('stops quietly when the reader of its output goes away (devsnap --help | head -1)', async () => {
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // The reader is gone before the first write, so that write fails with EPIPE.
    child.stdout.destroy();
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('maps a store path that is a file to a store error (exit 4), for reading and for writing', async () => {
    const list = await runDevsnap(['list', '--store', file]);
    expect(list.code).toBe(4);
    expect(list.stderr).toBe(
      `devsnap: The store ${file} is a file, not a directory.\n  Point --store at the directory that holds your snapshots.\n`,
    );
    const exported = await runDevsnap([
      'export',
      '--database-url',
      serverUrl('postgres'),
      '--store',
      join(file, 'snapshots'),
      '--json',
    ]);
    expect(exported.code).toBe(4);
    expect(JSON.parse(exported.stdout).error).toMatchObject({
      name: 'StoreError',
      message: expect.stringMatching(
        /^Could not write .*not-a-directory\/snapshots\/.*: part of that path is a file, not a directory\.$/,
      ),
      hint: 'Point --store at a directory (it is created when missing), not at a file.',
    });
  });

  it('says a mistyped store directory does not exist (exit 4) instead of listing nothing', async () => {
    const missing = join(scratch, 'snapshtos');
    const run = await runDevsnap(['list', '--store', missing]);
    expect(run).toEqual({
      code: 4,
      stdout: '',
      stderr: `devsnap: The store ${missing} does not exist.\n  Check --store (or DEVSNAP_STORE); \`devsnap export --store ${missing}\` creates it.\n`,
    });
  });

  it('init --out into a missing folder names the folder and what to do (exit 2)', async () => {
    const out = join(scratch, 'no-such-folder', 'devsnap.config.ts');
    const run = await runDevsnap(['init', '--database-url', serverUrl('postgres'), '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `devsnap: Cannot write ${out}: the folder ${dirname(out)} does not exist.\n` +
        `  Create it first (mkdir -p ${dirname(out)}), or pass --out with a file in an existing folder.\n`,
    );
  });

  it('prints usage errors as the one JSON document when --json is given', async () => {
    const run = await runDevsnap(['import', '--json', '--reset-mode', 'wipe']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      error: {
        name: 'UsageError',
        message:
          "option '--reset-mode <mode>' argument 'wipe' is invalid. Allowed choices are drop-database, drop-tables, none.",
        hint: 'Run with --help for usage.',
        exitCode: 2,
      },
    });
  });

  it('names the config file that was given, not devsnap.config.ts', async () => {
    const config = join(scratch, 'team.config.mjs');
    await writeFile(config, "export default { tables: { 'public.nope': [] } };\n");
    const run = await runDevsnap(['plan', '--database-url', serverUrl('postgres'), '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `\\n {2}Fix them in ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; \`devsnap plan\` checks`,
      ),
    );
  });

  it('gives each connection failure its own hint', async () => {
    const port = await freePort();
    const refused = await runDevsnap(['plan', '--database-url', `postgres://me:pw@127.0.0.1:${port}/app`]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toBe(
      `devsnap: Could not connect to postgres://me:***@127.0.0.1:${port}/app: the connection was refused (is the server running and listening on that host and port?).\n` +
        '  Start your PostgreSQL server, or fix the host and port in --database-url (or DEVSNAP_DATABASE_URL).\n',
    );
    const url = new URL(serverUrl('postgres'));
    url.password = 'wrong';
    const wrong = await runDevsnap(['plan', '--database-url', url.toString()]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toBe(
      `devsnap: Could not connect to ${url.toString().replace(':wrong@', ':***@')}: the server rejected the user name or password.\n` +
        '  Check the user and password in --database-url (or DEVSNAP_DATABASE_URL, or ~/.pgpass).\n',
    );
    // pg's own words when the server wants a password and the URL has none (pg cannot be made to
    // send this without a server that asks, and ~/.pgpass may hold one here, so the mapping is checked directly).
    const noPassword = connectionError(
      'postgres://me@127.0.0.1:5432/app',
      new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'),
    );
    expect([noPassword.message, noPassword.hint]).toEqual([
      'Could not connect to postgres://me@127.0.0.1:5432/app: the server asks for a password and none was given.',
      'Put it in --database-url (postgres://user:password@host/db) or in ~/.pgpass.',
    ]);
  });

  it('does not suggest another reset mode for a full disk on the database server', () => {
    // A server's disk cannot be filled on demand here: the SQLSTATE mapping is checked directly.
    expect(serverFailureHint({ code: '53100' })).toBe(
      "The database server's disk is full: free space on it (drop databases you no longer need, or run `devsnap prune`) and import again; your database is unchanged.",
    );
    expect(serverFailureHint({ code: '42P07' })).toBe(
      'The objects already exist: import with --reset-mode drop-tables or drop-database.',
    );
    expect(serverFailureHint({ code: '22P02' })).toBeUndefined();
  });
});
