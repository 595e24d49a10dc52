import { describe, expect, it } from 'vitest';
import { ReadOnlyViolationError } from '../../core/errors.js';
import { assertReadOnly } from '../../core/source/read-only-guard.js';

describe('assertReadOnly', () => {
  it.each([
    'SELECT 1',
    "  select a, b from public.t where note = 'insert into x'",
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'SELECT "update", "delete" FROM t',
    'SELECT $$drop table t$$ AS body',
    'SHOW server_version',
    '-- comment with delete\nSELECT 1',
    '/* a /* b */ DELETE */ SELECT 1',
  ])('lets a read through: %s', (sql) => {
    expect(() => assertReadOnly(sql)).not.toThrow();
  });

  it.each([
    ['INSERT INTO t VALUES (1)', 'insert'],
    ['UPDATE t SET a = 1', 'update'],
    ['DELETE FROM t', 'delete'],
    ['SELECT 1; DROP TABLE t', 'drop'],
    ['SELECT * FROM t FOR UPDATE', 'for update'],
    ["SELECT nextval('s')", 'nextval'],
    ['SELECT * INTO new_table FROM t', 'into'],
    ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'delete'],
    ['TRUNCATE t', 'TRUNCATE'],
    ['EXPLAIN ANALYZE DELETE FROM t', 'EXPLAIN'],
    ['SELECT pg_advisory_lock(1)', 'pg_advisory'],
    ['SELECT 1; /* x /* y */ */ DELETE FROM t', 'delete'],
    // The block comment nests, so it ends after the first "$$": three statements, not one.
    ['SELECT 1 /* a /* b */ $$ */; DELETE FROM t; SELECT $$ x $$', 'delete'],
  ])('refuses a write: %s', (sql, word) => {
    expect(() => assertReadOnly(sql)).toThrow(ReadOnlyViolationError);
    expect(() => assertReadOnly(sql)).toThrow(new RegExp(word, 'i'));
  });
});

describe('assertReadOnly with ordinary column names', () => {
  it('lets columns named like commands through', () => {
    expect(() =>
      assertReadOnly('SELECT id, comment, lock, set, reset, "do" FROM public.posts'),
    ).not.toThrow();
  });
});
