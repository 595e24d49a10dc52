import type { SnapshotAnonymiser } from '../anonymise/snapshot-anonymiser.js';
import { type Manifest, type ManifestTable, tableDataDirectory } from '../manifest.js';
import { encodeParquet } from '../parquet/parquet-encoder.js';
import { arrowTypeName } from '../parquet/pg-arrow-types.js';
import type { ProgressReporter } from '../progress.js';
import {
  exportedColumns,
  qualifiedName,
  type SchemaModel,
  type SequenceInfo,
  type TableInfo,
} from '../schema/schema-model.js';
import type { TextValue } from '../source/source.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import type { KeyRange, RowSelection } from '../subset/row-selection.js';

/** What writing one table needs from a prepared export. */
export interface SnapshotWriting {
  readonly model: SchemaModel;
  readonly selection: RowSelection;
  readonly anonymiser: SnapshotAnonymiser;
  readonly store: SnapshotStore;
  readonly reporter: ProgressReporter;
}

/** Leaf partitions whose rows are exported through `table` (its top-level partitioned parent). */
function partitionsOf(model: SchemaModel, table: TableInfo): TableInfo[] {
  const name = qualifiedName(table);
  return model.tables.filter((t) => t.partitionRoot && qualifiedName(t.partitionRoot) === name);
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

export const INTEGER_TYPES: ReadonlySet<string> = new Set(['int2', 'int4', 'int8']);

/** The table's foreign keys, with those declared on its partitions lifted to it (once each). */
export function tableForeignKeys(
  model: SchemaModel,
  table: TableInfo,
): Manifest['tables'][number]['foreignKeys'] {
  const seen = new Set<string>();
  return [table, ...partitionsOf(model, table)]
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

/** `part-00003`: the name of a table part's data file (and its result), sorting in part order. */
export const partName = (part: number): string => `part-${String(part).padStart(5, '0')}`;

/** Where a part goes and which rows it holds; one part without a range is the whole table. */
export interface TablePart {
  /** The snapshot's prefix in the store. */
  readonly prefix: string;
  readonly part: number;
  readonly range?: KeyRange;
}

/**
 * Writes a table's selected rows (or one part of them) as Parquet and returns its manifest entry;
 * finalizeExport joins the entries of a table's parts.
 */
export async function exportTable(
  writing: SnapshotWriting,
  table: TableInfo,
  target: TablePart,
): Promise<ManifestTable> {
  const { model, selection, anonymiser, store, reporter } = writing;
  const name = qualifiedName(table);
  const started = performance.now();
  // The selection knows the table's rows exactly; a key-range part knows only the estimate.
  const total = target.range ? table.estimatedRows : selection.stats(table).rows;
  reporter.report({ type: 'table-start', table: name, estimatedRows: Math.max(total, 0) });
  const columns = exportedColumns(table);
  let rows = 0;
  const counted = async function* (batches: AsyncIterable<TextValue[][]>) {
    for await (const batch of batches) {
      rows += batch.length;
      reporter.report({ type: 'table-progress', table: name, rows });
      yield batch;
    }
  };
  const key = `${target.prefix}data/${tableDataDirectory(table)}/${partName(target.part)}.parquet`;
  const verification = anonymiser.verifier(table, columns);
  const batches = anonymiser.transform(
    table,
    columns,
    selection.stream(table, columns, target.range),
    verification,
  );
  const stored = await store.put(key, encodeParquet(columns, counted(batches)));
  try {
    anonymiser.enforce(verification);
  } catch (error) {
    // Found personal data never stays in the store, whoever cleans up after the run.
    await store.deletePrefix(key);
    throw error;
  }
  const verified = verification?.results();
  const durationMs = Math.round(performance.now() - started);
  reporter.report({ type: 'table-done', table: name, rows, bytes: stored.bytes, durationMs });
  const stats = selection.stats(table);
  return {
    schema: table.schema,
    name: table.name,
    kind: table.kind,
    partitions: partitionsOf(model, table)
      .filter((t) => t.kind === 'table')
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
      treatment: anonymiser.treatment(table, column, verified?.get(column.name)),
    })),
    foreignKeys: tableForeignKeys(model, table),
    generatedColumns: table.columns.filter((c) => c.generatedExpression !== null).map((c) => c.name),
    rows,
    files: [{ ...stored, rows }],
    strategies: stats.strategies.map((strategy) => ({ ...strategy })),
    policies: stats.policies.map((policy) => ({ ...policy })),
    durationMs,
  };
}
