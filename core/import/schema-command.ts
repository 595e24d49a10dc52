import { spawn } from 'node:child_process';
import type pg from 'pg';
import { DevsnapError, UsageError } from '../errors.js';
import type { Manifest, ManifestColumn, ManifestTable } from '../manifest.js';
import type { ProgressReporter } from '../progress.js';
import { qualifiedName, quoteQualified } from '../schema/schema-model.js';
import { parseDatabaseUrl } from '../source/pg-connection.js';
import { relationExists } from './pg-admin.js';

/**
 * Runs the team's own schema command (e.g. `psql -f schema.sql`, or their migrations) against the
 * database being built. It gets the database in DATABASE_URL and in the libpq PG* variables.
 */
export async function runSchemaCommand(
  command: string,
  url: string,
  reporter: ProgressReporter,
): Promise<void> {
  reporter.report({ type: 'phase', phase: 'schema', detail: `running ${command}` });
  const parsed = parseDatabaseUrl(url);
  const env = {
    ...process.env,
    DATABASE_URL: url,
    PGHOST: parsed.searchParams.get('host') ?? decodeURIComponent(parsed.hostname),
    PGPORT: parsed.port || '5432',
    PGUSER: decodeURIComponent(parsed.username),
    PGPASSWORD: decodeURIComponent(parsed.password),
    PGDATABASE: decodeURIComponent(parsed.pathname.slice(1)),
  };
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, { shell: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    const tail = output.join('').trim().split('\n').slice(-15).join('\n    ');
    throw new UsageError(`The schema command failed (exit code ${code}): ${command}\n    ${tail}`, {
      hint: 'Run it by hand against an empty database to see what it needs; your database was not changed.',
    });
  }
}

interface TargetColumn {
  readonly name: string;
  readonly required: boolean;
}

/**
 * Matches the snapshot's columns to the tables the schema command built, by name. Columns on one
 * side only are an error listing all of them, unless `allowMissing` (then they are skipped with a
 * notice). Returns, per table, the snapshot columns to load.
 */
export async function matchColumns(
  client: pg.Client,
  manifest: Manifest,
  allowMissing: boolean,
  reporter: ProgressReporter,
): Promise<Map<ManifestTable, ManifestColumn[]>> {
  const problems: string[] = [];
  const oneSided: string[] = [];
  const plan = new Map<ManifestTable, ManifestColumn[]>();
  for (const table of manifest.tables) {
    const name = qualifiedName(table);
    const target = await targetColumns(client, table);
    if (target === null) {
      problems.push(`${name}: the schema command did not create this table`);
      continue;
    }
    const names = new Set(target.map((column) => column.name));
    const loaded = table.columns.filter((column) => names.has(column.name));
    for (const column of table.columns) {
      if (!names.has(column.name)) oneSided.push(`${name}.${column.name}: in the snapshot only`);
    }
    const snapshotNames = new Set([...table.columns.map((c) => c.name), ...table.generatedColumns]);
    for (const column of target) {
      if (snapshotNames.has(column.name)) continue;
      if (column.required) {
        problems.push(
          `${name}.${column.name}: NOT NULL without a default in the new schema and not in the snapshot`,
        );
      } else {
        oneSided.push(`${name}.${column.name}: in the new schema only`);
      }
    }
    plan.set(table, loaded);
  }
  if (!allowMissing) problems.push(...oneSided);
  if (problems.length > 0) {
    throw new DevsnapError(
      `The schema built by --schema-command does not match the snapshot:\n  ${problems.join('\n  ')}`,
      {
        hint: allowMissing
          ? 'Add the missing tables or give those columns a default; your database was not changed.'
          : 'Pass --allow-missing-columns to load the columns both sides have; your database was not changed.',
      },
    );
  }
  if (oneSided.length > 0) {
    reporter.report({
      type: 'notice',
      message: `Columns on one side only (skipped):\n  ${oneSided.join('\n  ')}`,
    });
  }
  return plan;
}

async function targetColumns(client: pg.Client, table: ManifestTable): Promise<TargetColumn[] | null> {
  const { rows } = await client.query<{ name: string; required: boolean }>(
    `SELECT a.attname AS name,
            a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' AS required
     FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1)
       AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     ORDER BY a.attnum`,
    [quoteQualified(table)],
  );
  if (rows.length > 0) return rows;
  return (await relationExists(client, table)) ? [] : null;
}
