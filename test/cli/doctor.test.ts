import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../core/doctor.js';
import { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import { freePort } from '../../tools/embedded-postgres-server.js';
import { runDevsnap } from '../support/cli-harness.js';
import { serverUrl } from '../support/databases.js';

describe('devsnap doctor', () => {
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(join(tmpdir(), 'devsnap-doctor-'));
  });
  afterAll(async () => {
    await rm(empty, { recursive: true, force: true });
  });

  it('passes Node, database and disk, and says what to do about an empty store', async () => {
    const run = await runDevsnap(
      [
        'doctor',
        '--store',
        empty,
        '--database-url',
        serverUrl('postgres'),
        '--cache-dir',
        join(empty, 'cache'),
      ],
      {},
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✓ node: Node \d+\./m);
    expect(run.stdout).toMatch(/^✗ store: There is no snapshot in .*\n {4}→ Check --store/m);
    expect(run.stdout).toMatch(
      /^✓ database: PostgreSQL 15\.\d+ at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/m,
    );
    expect(run.stdout).toMatch(/^✓ disk: \d+ MiB free for the cache in /m);
  });

  it('fails an unreachable database and an old Node, with the fix, as JSON too', async () => {
    const port = await freePort();
    const checks = await runDoctor({
      store: () => new LocalDirectoryStore(empty),
      databaseUrl: `postgres://me:pw@127.0.0.1:${port}/app`,
      cacheDirectory: join(empty, 'cache'),
      nodeVersion: '20.18.1',
    });
    expect(checks.map((check) => [check.name, check.status])).toEqual([
      ['node', 'fail'],
      ['store', 'fail'],
      ['database', 'fail'],
      ['disk', 'ok'],
      ['leftovers', 'skip'],
    ]);
    expect(checks[0]?.fix).toBe('Install Node 20.19 or newer.');
    expect(checks[2]?.detail).toMatch(/connection was refused/);
    const json = await runDevsnap(['doctor', '--json', '--cache-dir', join(empty, 'cache')]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      healthy: true,
      checks: [
        { name: 'node', status: 'ok' },
        { name: 'store', status: 'skip' },
        { name: 'database', status: 'skip' },
        { name: 'disk', status: 'ok' },
      ],
    });
  });
});
