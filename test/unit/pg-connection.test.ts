import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { databaseName, isLocalDatabase, redactUrl, withDatabase } from '../../core/source/pg-connection.js';

describe('database URLs', () => {
  it.each([
    ['postgres://me@localhost/app', true],
    ['postgres://me@127.0.0.1:5433/app', true],
    ['postgres://me@[::1]/app', true],
    ['postgresql:///app?host=/var/run/postgresql', true],
    ['postgres://me@db.internal/app', false],
    ['postgres://me@10.0.0.5/app', false],
    ['postgres://me@prod.example.com/app', false],
  ])('%s is local: %s', (url, local) => {
    expect(isLocalDatabase(url)).toBe(local);
  });

  it('redacts passwords and swaps databases', () => {
    expect(redactUrl('postgres://me:secret@h/db')).toBe('postgres://me:***@h/db');
    expect(withDatabase('postgres://me:pw@h:5/app_dev', 'postgres')).toBe('postgres://me:pw@h:5/postgres');
    expect(databaseName('postgres://h/caf%C3%A9')).toBe('café');
    expect(() => databaseName('postgres://h')).toThrow(UsageError);
  });
});
