/**
 * `npx tsx bench/detector-false-positives.ts`: runs every detector over every value that export-time
 * verification would check in the repository's test databases — Pagila, the small shop, the demo
 * shop and the Django application — and prints, per database, the values checked and the columns
 * where something was found, with redacted examples (`--show` prints the matches themselves, for
 * judging them; the databases are synthetic). Columns whose name or type says they are personal are
 * counted apart: finds there are expected. Not a test: it measures, and a person judges the finds.
 * Finds of the known-value index (the database's own values of columns whose names say they hold
 * names, usernames, cities…, as an export indexes those its rules fake, and as verification counts
 * them) are counted apart too.
 *
 *   DEVSNAP_PAGILA_DIR=/path/to/pagila   where pagila-schema.sql and pagila-data.sql are
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describeColumn } from '../core/anonymise/anonymise-column.js';
import { categoryForName, classifyByName } from '../core/anonymise/column-classifier.js';
import type { DetectorName } from '../core/anonymise/detectors/detector-names.js';
import { allDetectorsScanner } from '../core/anonymise/detectors/load-detectors.js';
import { ordinaryWords } from '../core/anonymise/detectors/name-dictionaries.js';
import { PersonalDataScanner } from '../core/anonymise/detectors/personal-data-scanner.js';
import { redact } from '../core/anonymise/detectors/redact.js';
import { verifiesFamily } from '../core/anonymise/export-verification.js';
import { KnownValueIndex } from '../core/anonymise/known-values/known-value-index.js';
import { KnownValues } from '../core/anonymise/known-values/known-values.js';
import { categoryKind } from '../core/anonymise/known-values/personal-value-kind.js';
import { PostgresIntrospector } from '../core/schema/postgres-introspector.js';
import {
  exportedColumns,
  quoteIdent,
  quoteQualified,
  type SchemaModel,
  type TableInfo,
} from '../core/schema/schema-model.js';
import { PgSource } from '../core/source/pg-source.js';
import { buildDemoDatabase } from '../demo/demo-database.js';
import { startEmbeddedPostgres } from '../tools/embedded-postgres-server.js';

const selectColumn = (table: TableInfo, column: string) =>
  `SELECT ${quoteIdent(column)}::text FROM ${table.kind === 'partitioned' ? '' : 'ONLY '}${quoteQualified(table)}`;

/** The known-value index of the columns whose names say what personal values they hold. */
async function knownValueScanner(source: PgSource, model: SchemaModel): Promise<PersonalDataScanner | null> {
  const sources: {
    key: string;
    kind: NonNullable<ReturnType<typeof categoryKind>>;
    table: TableInfo;
    column: string;
  }[] = [];
  for (const table of model.tables.filter((t) => t.partitionRoot === null)) {
    for (const column of exportedColumns(table)) {
      const facts = describeColumn(model, table, column);
      if (facts.family !== 'text') continue;
      const category = categoryForName(column.name, facts.family, table.name);
      const kind = category ? categoryKind(category.id) : undefined;
      if (kind)
        sources.push({
          key: `${table.schema}.${table.name}.${column.name}`,
          kind,
          table,
          column: column.name,
        });
    }
  }
  if (sources.length === 0) return null;
  const builder = KnownValueIndex.builder(
    sources.map(({ key, kind }) => ({ key, kind })),
    Buffer.from('bench-known-values'),
    await ordinaryWords(),
  );
  for (const [index, { table, column }] of sources.entries()) {
    for await (const batch of source.streamRows(selectColumn(table, column)))
      for (const [value] of batch) if (value) builder.add(index, value);
  }
  const detector = new KnownValues(builder.finish()).detector(new Set(), { distinctCase: true });
  return detector ? new PersonalDataScanner([detector]) : null;
}

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
    const known = await knownValueScanner(source, model);
    let checked = 0;
    let checkedPersonal = 0;
    const finds = { plain: 0, personal: 0, knownPlain: 0 };
    const report: string[] = [];
    for (const table of model.tables.filter((t) => t.partitionRoot === null)) {
      for (const column of exportedColumns(table)) {
        const facts = describeColumn(model, table, column);
        if (!verifiesFamily(facts)) continue;
        const personal = classifyByName(facts).personal;
        const hits = new Map<string, { values: number; examples: string[] }>();
        let values = 0;
        for await (const batch of source.streamRows(selectColumn(table, column.name))) {
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
            if (personal || !known) continue;
            let found = false;
            known.scan(value, (detector, match) => {
              if (found) return;
              found = true;
              const entry = hits.get(`known ${detector}`) ?? { values: 0, examples: [] };
              entry.values++;
              if (entry.examples.length < 3) entry.examples.push(show ? match : redact(detector, match));
              hits.set(`known ${detector}`, entry);
            });
            if (found) finds.knownPlain++;
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
      `${name}: ${checked} values checked; columns not personal by name or type: ${finds.plain} of ${plainChecked} values with a find (${((finds.plain / Math.max(plainChecked, 1)) * 100).toFixed(3)}%), ${finds.knownPlain} with a find of the known-value index (${((finds.knownPlain / Math.max(plainChecked, 1)) * 100).toFixed(3)}%); personal by name or type: ${finds.personal} of ${checkedPersonal}`,
    );
    for (const line of report) console.log(line);
  }
} finally {
  await server.stop();
}
