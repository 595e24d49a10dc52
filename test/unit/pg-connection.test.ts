import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { knownSecrets, redactSecrets } from '../../core/redact-secrets.js';
import {
  confirmLocalServer,
  databaseName,
  isLocalDatabase,
  redactUrl,
  withDatabase,
} from '../../core/source/pg-connection.js';
import { setEnvironment } from '../support/process-environment.js';

describe('database URLs', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  it.each([
    ['postgres://me@localhost/app', true],
    ['postgres://me@127.0.0.1:5433/app', true],
    ['postgres://me@[::1]/app', true],
    ['postgresql:///app?host=/var/run/postgresql', true],
    ['postgres://me@db.internal/app', false],
    ['postgres://me@10.0.0.5/app', false],
    ['postgres://me@prod.example.com/app', false],
    // node-postgres takes the last of repeated parameters, and ?host= over the authority.
    ['postgres://me@localhost/app?host=/tmp&host=prod.example.com', false],
    ['postgres://me@prod.example.com/app?host=localhost', true],
    ['postgres://me@127.0.0.1/app?host=10.0.0.5', false],
  ])('%s is local: %s', (url, local) => {
    restore = setEnvironment({ PGHOST: undefined });
    expect(isLocalDatabase(url)).toBe(local);
  });

  it('reads PGHOST where the URL names no host, as node-postgres does', () => {
    restore = setEnvironment({ PGHOST: 'prod.example.com' });
    expect(isLocalDatabase('postgres:///app')).toBe(false);
    expect(isLocalDatabase('postgres://localhost/app')).toBe(true);
    restore();
    restore = setEnvironment({ PGHOST: '/var/run/postgresql' });
    expect(isLocalDatabase('postgres:///app')).toBe(true);
  });

  it('confirms after connecting that the server answered from this machine', async () => {
    // The test server only listens on loopback, so a server answering from elsewhere is a stand-in
    // client here: a real component cannot be made to produce that answer on this machine.
    const answering = (address: string | null) =>
      ({ query: async () => ({ rows: [{ address }] }) }) as unknown as Parameters<
        typeof confirmLocalServer
      >[0];
    for (const local of [null, '127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      await expect(confirmLocalServer(answering(local), 'postgres://localhost/app')).resolves.toBeUndefined();
    }
    await expect(
      confirmLocalServer(answering('10.0.0.5'), 'postgres://me:secret@localhost/app'),
    ).rejects.toThrow(
      'Refusing to import into postgres://me:***@localhost/app: the server answered from 10.0.0.5, which is not this machine',
    );
  });

  it('redacts passwords and swaps databases', () => {
    expect(redactUrl('postgres://me:secret@h/db')).toBe('postgres://me:***@h/db');
    expect(
      redactUrl('postgres://me@h/db?sslmode=require&password=secret&sslpassword=k3y&sslkey=/home/me/.pg/key'),
    ).toBe('postgres://me@h/db?sslmode=require&password=***&sslpassword=***&sslkey=***');
    expect(withDatabase('postgres://me:pw@h:5/app_dev', 'postgres')).toBe('postgres://me:pw@h:5/postgres');
    expect(databaseName('postgres://h/caf%C3%A9')).toBe('café');
    expect(() => databaseName('postgres://h')).toThrow(UsageError);
  });
});

describe('redactSecrets', () => {
  const password = 'S3cr€t p@ss:w/rd"x';
  const encoded = encodeURIComponent(password);

  it('finds the secrets of every credential form in the environment and the arguments', () => {
    const secrets = knownSecrets(
      {
        PGPASSWORD: 'from-pgpassword',
        PGSSLPASSWORD: 'from-sslpassword',
        DEVSNAP_DATABASE_URL: `postgres://me:${encoded}@db/app`,
        HOME: '/root',
      },
      [
        '--database-url',
        "host=db password='quoted secret' dbname=app",
        'postgres://me@db/app?password=in-query',
      ],
    );
    expect(secrets.sort()).toEqual(
      ['from-pgpassword', 'from-sslpassword', 'in-query', password, 'quoted secret'].sort(),
    );
  });

  it('removes each of them however it is written, and leaves the rest', () => {
    const secrets = [password, 'from-pgpassword'];
    const text = [
      `could not connect to postgres://me:${encoded}@db/app`,
      `password "${password}" rejected`,
      JSON.stringify({ error: `auth failed for ${password}` }),
      "conninfo host=db password='quoted secret' sslkey=/keys/client.key",
      'PGPASSWORD was from-pgpassword',
      'the user password column is personal',
    ].join('\n');
    const redacted = redactSecrets(text, secrets);
    for (const secret of [
      password,
      encoded,
      JSON.stringify(password).slice(1, -1),
      'quoted secret',
      '/keys/client.key',
      'from-pgpassword',
    ]) {
      expect(redacted).not.toContain(secret);
    }
    expect(redacted).toContain('postgres://me:***@db/app');
    expect(redacted).toContain('the user password column is personal');
  });
});

describe('redactSecrets with a password that is also a name', () => {
  it('hides it as a password but leaves the user and database names readable', () => {
    const url = 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
    const secrets = knownSecrets({}, ['--database-url', url]);
    expect(secrets).toEqual([]);
    expect(redactSecrets(`PostgreSQL 15 at ${url}`, secrets)).toBe(
      'PostgreSQL 15 at postgres://postgres:***@127.0.0.1:5432/postgres',
    );
  });
});
