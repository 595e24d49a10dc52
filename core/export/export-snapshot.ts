import type { SecretsManagerReader } from '../anonymise/anonymise-secret.js';
import { SnapshotAnonymiser } from '../anonymise/snapshot-anonymiser.js';
import type { DevsnapConfig } from '../config/devsnap-config.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve-config.js';
import { errorMessage, UsageError } from '../errors.js';
import {
  type LatestPointer,
  MANIFEST_FORMAT_VERSION,
  type Manifest,
  type ManifestTable,
  manifestKey,
  newSnapshotId,
  snapshotPrefix,
} from '../manifest.js';
import { encodeParquet } from '../parquet/parquet-encoder.js';
import { arrowTypeName } from '../parquet/pg-arrow-types.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { PostgresIntrospector } from '../schema/postgres-introspector.js';
import { writeDropDdl, writeSchemaDdl } from '../schema/schema-ddl.js';
import {
  type ColumnInfo,
  qualifiedName,
  type SchemaModel,
  type SequenceInfo,
  type TableInfo,
} from '../schema/schema-model.js';
import { PgSource } from '../source/pg-source.js';
import type { Source, TextValue } from '../source/source.js';
import { publishLatest } from '../store/publish-latest.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { type RowSelection, selectRows } from '../subset/row-selection.js';
import { DEVSNAP_VERSION } from '../version.js';

export interface ExportOptions {
  /** postgres:// URL of the source; devsnap only ever reads from it. Ignored when `source` is given. */
  readonly databaseUrl?: string;
  /**
   * Opens the source instead of connecting to `databaseUrl` (e.g. an RdsDataSource). The export
   * closes what it opens here; pass a function so that the export owns the source's whole life.
   */
  readonly source?: () => Promise<Source>;
  readonly store: SnapshotStore;
  readonly reporter?: ProgressReporter;
  /** Defaults to a new time-sortable id. */
  readonly snapshotId?: string;
  /** Strategies, foreign-key policies and anonymisation rules; every table in full when absent. */
  readonly config?: DevsnapConfig;
  /** Environment for `anonymise.secret: { env }` (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Secrets Manager access for `anonymise.secret: { secretsManager }` (default: the AWS SDK). */
  readonly secretsManager?: SecretsManagerReader;
}

export interface TableExportSummary {
  /** `schema.table` */
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
}

export interface ExportResult {
  readonly snapshotId: string;
  readonly tables: readonly TableExportSummary[];
  readonly totalRows: number;
  readonly totalBytes: number;
  readonly durationMs: number;
}

/**
 * Reads every table of the source inside one read-only snapshot and publishes a snapshot:
 * schema files and Parquet data first, then manifest.json, then latest.json. A run that fails
 * removes what it wrote and never moves `latest`.
 */
export async function exportSnapshot(options: ExportOptions): Promise<ExportResult> {
  const { store } = options;
  const reporter = options.reporter ?? silentReporter;
  const snapshotId = options.snapshotId ?? newSnapshotId();
  const started = new Date();
  const source = await openSource(options);
  try {
    reporter.report({ type: 'phase', phase: 'introspect', detail: source.serverVersion });
    const model = await new PostgresIntrospector(source).introspect();
    const config = resolveConfig(options.config ?? {}, model);
    reporter.report({ type: 'phase', phase: 'select' });
    const selection = await selectRows(source, model, config, reporter);
    // The anonymisation gate refuses before anything is written: no files, latest unmoved.
    const anonymiser = await SnapshotAnonymiser.prepare({
      source,
      model,
      config,
      selection,
      reporter,
      env: options.env,
      secretsManager: options.secretsManager,
    });
    const manifest = await writeSnapshot({
      model,
      config,
      selection,
      anonymiser,
      store,
      snapshotId,
      started,
      reporter,
    });
    return {
      snapshotId,
      tables: manifest.tables.map((table) => ({
        table: `${table.schema}.${table.name}`,
        rows: table.rows,
        bytes: table.files.reduce((sum, file) => sum + file.bytes, 0),
        durationMs: table.durationMs,
      })),
      totalRows: manifest.totals.rows,
      totalBytes: manifest.totals.bytes,
      durationMs: manifest.timings.durationMs,
    };
  } catch (error) {
    await store.deletePrefix(snapshotPrefix(snapshotId)).catch((cleanupError: unknown) => {
      reporter.report({
        type: 'notice',
        message: `Could not remove the incomplete snapshot ${snapshotId}: ${errorMessage(cleanupError)}`,
      });
    });
    throw error;
  } finally {
    await source.close();
  }
}

function openSource(options: ExportOptions): Promise<Source> {
  if (options.source) return options.source();
  if (options.databaseUrl === undefined) {
    throw new UsageError('No source database given.', {
      hint: 'Pass --database-url postgres://user:password@host:5432/db (or set DEVSNAP_DATABASE_URL).',
    });
  }
  return PgSource.connect(options.databaseUrl);
}

export interface SnapshotWriting {
  readonly model: SchemaModel;
  readonly config: ResolvedConfig;
  readonly selection: RowSelection;
  readonly anonymiser: SnapshotAnonymiser;
  readonly store: SnapshotStore;
  readonly snapshotId: string;
  readonly started: Date;
  readonly reporter: ProgressReporter;
}

async function writeSnapshot(writing: SnapshotWriting): Promise<Manifest> {
  const { model, config, store, snapshotId, started, reporter } = writing;
  const prefix = snapshotPrefix(snapshotId);
  const ddl = writeSchemaDdl(model);
  const preData = await store.put(`${prefix}schema/pre-data.sql`, ddl.preData);
  const postData = await store.put(`${prefix}schema/post-data.sql`, ddl.postData);
  const drop = await store.put(`${prefix}schema/drop.sql`, writeDropDdl(model));

  const tables: ManifestTable[] = [];
  for (const { table } of config.tables.values()) {
    tables.push(await exportTable(writing, table, prefix));
  }

  const finished = new Date();
  const manifest: Manifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    snapshotId,
    createdAt: started.toISOString(),
    tool: { name: 'devsnap', version: DEVSNAP_VERSION },
    source: { engine: 'postgresql', serverVersion: model.serverVersion },
    configHash: config.hash,
    schema: {
      preData,
      postData,
      drop,
      enums: model.enums.map(({ schema, name }) => ({ schema, name })),
      domains: model.domains.map(({ schema, name }) => ({ schema, name })),
      uncaptured: model.uncaptured.map((object) => ({ ...object })),
    },
    tables,
    anonymisation: writing.anonymiser.summary(),
    sequences: model.sequences.map((sequence) => ({
      schema: sequence.schema,
      name: sequence.name,
      start: sequence.start,
      increment: sequence.increment,
      ownedBy: sequence.ownedBy ? { ...sequence.ownedBy } : null,
      feeds: fedColumns(model, sequence),
      lastValue: sequence.lastValue,
    })),
    totals: {
      rows: tables.reduce((sum, table) => sum + table.rows, 0),
      bytes: tables.reduce((sum, table) => sum + table.files.reduce((s, file) => s + file.bytes, 0), 0),
    },
    timings: {
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
    },
  };
  reporter.report({ type: 'phase', phase: 'publish', detail: snapshotId });
  const manifestObject = await store.put(manifestKey(snapshotId), `${JSON.stringify(manifest, null, 2)}\n`);
  const latest: LatestPointer = {
    snapshotId,
    manifestKey: manifestObject.key,
    manifestSha256: manifestObject.sha256,
    createdAt: manifest.createdAt,
  };
  await publishLatest(store, latest, reporter);
  return manifest;
}

/** Exported integer columns a sequence numbers: its owner and the columns whose default calls it. */
export function fedColumns(
  model: SchemaModel,
  sequence: SequenceInfo,
): { schema: string; name: string; column: string }[] {
  const candidates = sequence.ownedBy ? [sequence.ownedBy, ...sequence.defaultOf] : sequence.defaultOf;
  const seen = new Set<string>();
  return candidates
    .filter((ref) => {
      const table = model.tables.find((t) => t.schema === ref.schema && t.name === ref.name);
      const column = table?.columns.find((c) => c.name === ref.column);
      const key = `${ref.schema}.${ref.name}.${ref.column}`;
      const fresh = !seen.has(key);
      seen.add(key);
      return fresh && table?.partitionRoot === null && INTEGER_TYPES.has(column?.baseType ?? '');
    })
    .map(({ schema, name, column }) => ({ schema, name, column }));
}

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/** `schema.table` as a safe path segment: dots and anything unsafe in a name are percent-encoded. */
export function tableDirectory(table: TableInfo): string {
  const encode = (part: string) => encodeURIComponent(part).replaceAll('.', '%2E').replaceAll('*', '%2A');
  return `${encode(table.schema)}.${encode(table.name)}`;
}

/** The table's foreign keys, with those declared on its partitions lifted to it (once each). */
export function tableForeignKeys(
  model: SchemaModel,
  table: TableInfo,
): Manifest['tables'][number]['foreignKeys'] {
  const name = qualifiedName(table);
  const partitions = model.tables.filter((t) => t.partitionRoot && qualifiedName(t.partitionRoot) === name);
  const seen = new Set<string>();
  return [table, ...partitions]
    .flatMap((t) => t.foreignKeys)
    .filter((fk) => {
      const key = `${fk.columns.join(',')}>${qualifiedName(fk.referencedTable)}(${fk.referencedColumns.join(',')})`;
      const fresh = !seen.has(key);
      seen.add(key);
      return fresh;
    })
    .map((fk) => ({
      name: fk.name,
      columns: [...fk.columns],
      referencedTable: { schema: fk.referencedTable.schema, name: fk.referencedTable.name },
      referencedColumns: [...fk.referencedColumns],
    }));
}

/** Generated columns are recomputed by the import, so their values are never exported. */
export function exportedColumns(table: TableInfo): ColumnInfo[] {
  return table.columns.filter((column) => column.generatedExpression === null);
}

export async function exportTable(
  writing: SnapshotWriting,
  table: TableInfo,
  prefix: string,
): Promise<ManifestTable> {
  const { model, selection, anonymiser, store, reporter } = writing;
  const name = qualifiedName(table);
  const started = performance.now();
  reporter.report({ type: 'table-start', table: name, estimatedRows: Math.max(table.estimatedRows, 0) });
  const columns = exportedColumns(table);
  let rows = 0;
  const counted = async function* (batches: AsyncIterable<TextValue[][]>) {
    for await (const batch of batches) {
      rows += batch.length;
      reporter.report({ type: 'table-progress', table: name, rows });
      yield batch;
    }
  };
  const key = `${prefix}data/${tableDirectory(table)}/part-00000.parquet`;
  const batches = anonymiser.transform(table, columns, selection.stream(table, columns));
  const stored = await store.put(key, encodeParquet(columns, counted(batches)));
  const durationMs = Math.round(performance.now() - started);
  reporter.report({ type: 'table-done', table: name, rows, bytes: stored.bytes, durationMs });
  return {
    schema: table.schema,
    name: table.name,
    kind: table.kind,
    partitions: model.tables
      .filter((t) => t.partitionRoot && qualifiedName(t.partitionRoot) === name && t.kind === 'table')
      .map(qualifiedName)
      .sort(),
    columns: columns.map((column) => ({
      name: column.name,
      pgType: column.dataType,
      baseType: column.baseType,
      isArray: column.isArray,
      arrowType: arrowTypeName(column),
      nullable: column.nullable,
      hasDefault: column.defaultExpression !== null || column.identity !== null,
      treatment: anonymiser.treatment(table, column),
    })),
    foreignKeys: tableForeignKeys(model, table),
    generatedColumns: table.columns.filter((c) => c.generatedExpression !== null).map((c) => c.name),
    rows,
    files: [{ ...stored, rows }],
    strategies: selection.stats(table).strategies.map((strategy) => ({ ...strategy })),
    policies: selection.stats(table).policies.map((policy) => ({ ...policy })),
    durationMs,
  };
}
