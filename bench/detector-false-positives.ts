/**
 * `npx tsx bench/detector-false-positives.ts`: runs every detector over every value that export-time
 * verification would check in the repository's test databases — Pagila, the small shop, the demo
 * shop and the Django application — and prints, per database, the values checked and the columns
 * where something was found, with redacted examples (`--show` prints the matches themselves, for
 * judging them; the databases are synthetic). Columns whose name or type says they are personal are
 * counted apart: finds there are expected. Not a test: it measures, and a person judges the finds.
 *
 *   DEVSNAP_PAGILA_DIR=/path/to/pagila   where pagila-schema.sql and pagila-data.sql are
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describeColumn } from '../core/anonymise/anonymise-column.js';
import { classifyByName } from '../core/anonymise/column-classifier.js';
import type { DetectorName } from '../core/anonymise/detectors/detector-names.js';
import { allDetectorsScanner } from '../core/anonymise/detectors/load-detectors.js';
import { redact } from '../core/anonymise/detectors/redact.js';
import { verifiesFamily } from '../core/anonymise/export-verification.js';
import { PostgresIntrospector } from '../core/schema/postgres-introspector.js';
import { exportedColumns, quoteIdent, quoteQualified } from '../core/schema/schema-model.js';
import { PgSource } from '../core/source/pg-source.js';
import { buildDemoDatabase } from '../demo/demo-database.js';
import { startEmbeddedPostgres } from '../tools/embedded-postgres-server.js';

const show = process.argv.includes('--show');
const ROOT = join(import.meta.dirname, '..');
const PAGILA_DIR = process.env.DEVSNAP_PAGILA_DIR ?? join(ROOT, '../shared/datasets/pagila');

/** Loads a plain-SQL dump with COPY blocks (as the tests do). */
async function runScript(client: pg.Client, file: string): Promise<void> {
  const { runSqlScript } = await import('../test/support/sql-script.js');
  await runSqlScript(client, await readFile(file, 'utf8'));
}

const server = await startEmbeddedPostgres();
try {
  const databases: [string, (client: pg.Client, url: string) => Promise<void>][] = [
    [
      'pagila',
      async (client) => {
        await runScript(client, join(PAGILA_DIR, 'pagila-schema.sql'));
        await runScript(client, join(PAGILA_DIR, 'pagila-data.sql'));
      },
    ],
    ['small_shop', (client) => runScript(client, join(ROOT, 'test/fixtures/small-shop.sql'))],
    ['demo_shop', async (client) => void (await buildDemoDatabase(client, { scale: 1 }))],
    [
      'django_app',
      async (_client, url) => {
        const { manageOrThrow } = await import('../test/support/django-app.js');
        await manageOrThrow(url, ['migrate', '--noinput']);
        await manageOrThrow(url, ['seed']);
      },
    ],
  ];
  const scanner = await allDetectorsScanner();
  for (const [name, load] of databases) {
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const client = new pg.Client({ connectionString: server.url(name) });
    await client.connect();
    try {
      await load(client, server.url(name));
    } catch (error) {
      console.log(`${name}: not loaded (${error instanceof Error ? error.message.split('\n')[0] : error})`);
      await client.end();
      continue;
    } finally {
      await client.query('SET search_path = public').catch(() => {});
    }
    await client.end();
    const source = await PgSource.connect(server.url(name));
    const model = await new PostgresIntrospector(source).introspect();
    let checked = 0;
    let checkedPersonal = 0;
    const finds = { plain: 0, personal: 0 };
    const report: string[] = [];
    for (const table of model.tables.filter((t) => t.partitionRoot === null)) {
      for (const column of exportedColumns(table)) {
        const facts = describeColumn(model, table, column);
        if (!verifiesFamily(facts)) continue;
        const personal = classifyByName(facts).personal;
        const hits = new Map<DetectorName, { values: number; examples: string[] }>();
        let values = 0;
        for await (const batch of source.streamRows(
          `SELECT ${quoteIdent(column.name)}::text FROM ${table.kind === 'partitioned' ? '' : 'ONLY '}${quoteQualified(table)}`,
        )) {
          for (const [value] of batch) {
            if (value === null || value === undefined) continue;
            values++;
            const seen = new Set<DetectorName>();
            scanner.scan(value, (detector, match, via) => {
              if (seen.has(detector)) return;
              seen.add(detector);
              const entry = hits.get(detector) ?? { values: 0, examples: [] };
              entry.values++;
              if (entry.examples.length < 3)
                entry.examples.push(`${show ? match : redact(detector, match)}${via ? ` (in ${via})` : ''}`);
              hits.set(detector, entry);
            });
            if (seen.size > 0) finds[personal ? 'personal' : 'plain']++;
          }
        }
        checked += values;
        if (personal) checkedPersonal += values;
        for (const [detector, { values: count, examples }] of hits) {
          report.push(
            `  ${personal ? '(personal by name) ' : ''}${table.schema}.${table.name}.${column.name}: ${detector} in ${count} of ${values}: ${examples.join(' | ')}`,
          );
        }
      }
    }
    await source.close();
    const plainChecked = checked - checkedPersonal;
    console.log(
      `${name}: ${checked} values checked; columns not personal by name or type: ${finds.plain} of ${plainChecked} values with a find (${((finds.plain / Math.max(plainChecked, 1)) * 100).toFixed(3)}%); personal by name or type: ${finds.personal} of ${checkedPersonal}`,
    );
    for (const line of report) console.log(line);
  }
} finally {
  await server.stop();
}
