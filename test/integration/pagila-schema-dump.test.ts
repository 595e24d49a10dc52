import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { exportAndImport, type RoundTrip } from '../support/export-and-import.js';
import { loadPagila } from '../support/sql-script.js';

const run = promisify(execFile);

/** The PostgreSQL 15 client tools match the embedded server; a newer pg_dump would print other DDL. */
const PG_DUMP = '/usr/bin/pg_dump';

async function schemaDump(url: string): Promise<string> {
  try {
    await access(PG_DUMP);
  } catch {
    throw new Error(
      `${PG_DUMP} is missing: this test compares pg_dump --schema-only of the source and the import. Install the PostgreSQL 15 client tools (apt-get install postgresql-client-15).`,
    );
  }
  const { stdout } = await run(
    PG_DUMP,
    ['--schema-only', '--no-owner', '--no-privileges', `--dbname=${url}`],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

/**
 * The README's normalisation: drop comment, SET, psql meta-command (`\restrict`) and blank lines,
 * cut what is left into statements (a line ending in `;` outside dollar quotes ends one) and sort
 * them. Nothing else is changed, so any difference in any statement shows.
 */
function normaliseSchemaDump(dump: string): string {
  const statements: string[] = [];
  let statement: string[] = [];
  let inDollarQuote = false;
  for (const line of dump.split('\n')) {
    if (line === '' || line.startsWith('--') || line.startsWith('SET ') || line.startsWith('\\')) continue;
    statement.push(line);
    const dollarTags = line.match(/\$([A-Za-z_][A-Za-z0-9_]*)?\$/g)?.length ?? 0;
    if (dollarTags % 2 === 1) inDollarQuote = !inDollarQuote;
    if (!inDollarQuote && line.endsWith(';')) {
      statements.push(statement.join('\n'));
      statement = [];
    }
  }
  if (statement.length) statements.push(statement.join('\n'));
  return `${statements.sort().join('\n')}\n`;
}

/** `diff -u` of two texts, empty when they are equal. */
async function unifiedDiff(expected: string, actual: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'devsnap-schema-dump-'));
  try {
    await writeFile(join(directory, 'source.sql'), expected);
    await writeFile(join(directory, 'imported.sql'), actual);
    const { stdout } = await run('diff', ['-u', 'source.sql', 'imported.sql'], { cwd: directory }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    );
    return stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

describe('Pagila: schema fidelity through export and import', () => {
  let source: TestDatabase;
  let roundTrip: RoundTrip;

  beforeAll(async () => {
    source = await createTestDatabase('dump_src');
    await loadPagila(source.client);
    // This test checks the schema, not anonymisation: warn instead of stopping on personal columns.
    roundTrip = await exportAndImport(source, {
      config: { anonymise: { mode: 'warn' } },
      targetPrefix: 'dump_dst',
    });
  });
  afterAll(async () => {
    await roundTrip?.remove();
    await source?.drop();
  });

  it('gives the same pg_dump --schema-only as the source, after normalisation', async () => {
    const expected = normaliseSchemaDump(await schemaDump(source.url));
    const actual = normaliseSchemaDump(await schemaDump(roundTrip.target.url));
    // Pagila has views, a materialized view, functions, an aggregate, triggers and partitions.
    for (const kind of [
      'CREATE VIEW',
      'CREATE MATERIALIZED VIEW',
      'CREATE FUNCTION',
      'CREATE AGGREGATE',
      'CREATE TRIGGER',
    ]) {
      expect(expected).toContain(kind);
    }
    expect(expected).toContain('ATTACH PARTITION');
    expect(await unifiedDiff(expected, actual)).toBe('');
  });

  it('normalises only order and layout', () => {
    const dump = [
      '--',
      '-- Name: t; Type: TABLE',
      '--',
      '',
      'SET check_function_bodies = false;',
      '\\restrict abc',
      'CREATE TABLE public.b (x integer);',
      '',
      'CREATE FUNCTION public.f() RETURNS integer',
      '    LANGUAGE sql',
      '    AS $_$',
      'SELECT 1;',
      '',
      '-- not a comment of pg_dump, but stripped alike on both sides',
      'SELECT 2;',
      '$_$;',
      'CREATE TABLE public.a (x integer);',
    ].join('\n');
    expect(normaliseSchemaDump(dump)).toBe(
      [
        'CREATE FUNCTION public.f() RETURNS integer',
        '    LANGUAGE sql',
        '    AS $_$',
        'SELECT 1;',
        'SELECT 2;',
        '$_$;',
        'CREATE TABLE public.a (x integer);',
        'CREATE TABLE public.b (x integer);',
        '',
      ].join('\n'),
    );
  });
});
