import { beforeAll, describe, expect, it } from 'vitest';
import { ReadOnlyViolationError } from '../../core/errors.js';
import { readOnlyShape } from '../../core/source/read-only-guard.js';
import { ConfigSqlError, configSql } from '../../core/sql/config-sql.js';
import { loadSqlParser } from '../../core/sql/sql-parser.js';

beforeAll(loadSqlParser);

describe('readOnlyShape (the part of the guard that needs no catalog)', () => {
  it.each([
    'SELECT 1',
    "  select a, b from public.t where note = 'insert into x'",
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'SELECT "update", "delete" FROM t',
    'SELECT $$drop table t$$ AS body',
    'SHOW server_version',
    '-- comment with delete\nSELECT 1',
    '/* a /* b */ DELETE */ SELECT 1',
    'SELECT id, comment, lock, set, reset, "do" FROM public.posts',
    "SELECT pg_catalog.set_config('search_path', '', true)",
  ])('lets a read through: %s', (sql) => {
    expect(() => readOnlyShape(sql)).not.toThrow();
  });

  it.each([
    ['INSERT INTO t VALUES (1)', 'Insert statement'],
    ['UPDATE t SET a = 1', 'Update statement'],
    ['DELETE FROM t', 'Delete statement'],
    ['SELECT 1; DROP TABLE t', '2 statements'],
    ['SELECT * FROM t FOR UPDATE', 'locks rows'],
    ['SELECT * FROM t WHERE id IN (SELECT id FROM u FOR SHARE)', 'locks rows'],
    ['SELECT * INTO new_table FROM t', 'INTO'],
    ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'DELETE'],
    ['TRUNCATE t', 'Truncate statement'],
    ['EXPLAIN ANALYZE DELETE FROM t', 'Explain statement'],
    ["COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'", 'Copy statement'],
    ['SELECT 1; /* x /* y */ */ DELETE FROM t', '2 statements'],
    ['SELECT 1 /* a /* b */ $$ */; DELETE FROM t; SELECT $$ x $$', '3 statements'],
    ["SELECT pg_catalog.set_config('statement_timeout', '0', true)", "set_config('statement_timeout')"],
    ["SELECT pg_catalog.set_config('search_path', 'evil', false)", 'set_config(…)'],
    ['SELECT 1 FROM (', 'cannot parse'],
  ])('refuses: %s', (sql, reason) => {
    expect(() => readOnlyShape(sql)).toThrow(ReadOnlyViolationError);
    expect(() => readOnlyShape(sql)).toThrow(reason);
  });

  it('sees a call through quotes, comments and schema qualification as the call it is', () => {
    const references = readOnlyShape(
      `SELECT "dblink_exec"('x', 'y'), /* c */ public."pg_terminate_backend" (1), "T".id FROM "Weird""Table" AS "T"`,
    );
    expect([...references.functions].sort()).toEqual([
      [null, 'dblink_exec'],
      ['public', 'pg_terminate_backend'],
    ]);
    expect(references.relations).toEqual([[null, 'Weird"Table']]);
  });

  it('collects operators, casts and BETWEEN as the comparisons they run', () => {
    const references = readOnlyShape(
      `SELECT 1 WHERE 2 OPERATOR(public.===) 3 AND x::my_type IS NULL AND y BETWEEN 1 AND 2`,
    );
    expect(references.operators).toEqual(
      expect.arrayContaining([
        ['public', '==='],
        ['pg_catalog', '>='],
        ['pg_catalog', '<='],
      ]),
    );
    expect(references.types).toEqual([[null, 'my_type']]);
  });
});

describe('configSql', () => {
  it.each([
    [
      'condition',
      "t.created_at > $1 AND t.note <> 'a) TO PROGRAM ''x'' --'",
      "(t.created_at > $1\n  AND t.note <> 'a) TO PROGRAM ''x'' --')",
    ],
    ['condition', 't.id = 1 -- trailing comment', '(t.id = 1)'],
    [
      'condition',
      't.id NOT IN (2, 21, 22) AND t.kind IN (1, 2)',
      '(t.id NOT IN (2, 21, 22)\n  AND t.kind IN (1, 2))',
    ],
    ['orderBy', 't."Created" DESC NULLS LAST, t.id', 't."Created" DESC NULLS LAST, t.id'],
    ['sample', 'TABLESAMPLE system (10) REPEATABLE (1)', 'TABLESAMPLE system (10) REPEATABLE (1)'],
  ] as const)('rebuilds %s %j from its parse tree', (kind, text, sql) => {
    expect(configSql(kind, text)).toBe(sql);
  });

  it.each([
    ['condition', "1=1) TO PROGRAM 'touch /tmp/devsnap-pwned' --", 'cannot parse'],
    ['condition', '1=1) UNION (SELECT 1', 'cannot parse'],
    ['condition', 'true; DROP TABLE t', '2 statements'],
    ['condition', 't.id = 1 FROM other', 'more than one condition'],
    ['condition', 't.id AS x', 'more than one condition'],
    ['condition', 'true INTO new_table', 'more than one condition'],
    ['condition', "pg_catalog.set_config('statement_timeout', '0', false) IS NOT NULL", 'set_config'],
    ['condition', "set_config('lock_timeout', '0', false) IS NOT NULL", 'set_config'],
    ['condition', 'EXISTS (SELECT 1 FROM u FOR UPDATE)', 'locks rows'],
    ['condition', '   ', 'empty'],
    ['condition', "json_exists(t.doc, '$.a')", 'cannot rebuild it'],
    ['orderBy', 't.id LIMIT 1', 'more than one ORDER BY list'],
    ['orderBy', 't.id) TO STDOUT; COPY x TO PROGRAM (1', 'cannot parse'],
    ['sample', 'TABLESAMPLE system (1) WHERE false', 'more than one TABLESAMPLE clause'],
    ['sample', 'JOIN x ON true', 'not one TABLESAMPLE clause'],
  ] as const)('refuses %s %j', (kind, text, reason) => {
    expect(() => configSql(kind, text)).toThrow(ConfigSqlError);
    expect(() => configSql(kind, text)).toThrow(reason);
  });
});
