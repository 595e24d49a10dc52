import type { ResolvedConfig } from '../config/resolve-config.js';
import { UsageError } from '../errors.js';
import type { ProgressReporter } from '../progress.js';
import { type ColumnInfo, qualifiedName, type SchemaModel, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import { type ForeignKeyEdge, ForeignKeyGraph } from './foreign-key-graph.js';
import { encodeKey, type KeyLookup } from './key-set.js';
import { type Propagation, subsetPropagations } from './propagation.js';
import { type ParentCheck, type PrunedTable, parentValues } from './pruned-table.js';
import { columnRefs, rowIdentity } from './row-identity.js';
import { type BaseSelection, selectUnitBase } from './selection-closure.js';
import { pruneUnit } from './selection-pruning.js';
import { foreignKeyExpressions, readRows } from './selection-reader.js';
import { selectionUnits } from './selection-units.js';
import type { ForeignKeyPolicy } from './strategy.js';

export interface TableSelectionStats {
  /** Rows the table exports. */
  readonly rows: number;
  /**
   * Rows each strategy picked, before foreign-key policies (overlaps count for each). A related
   * strategy counts the rows it added beyond the table's other picks.
   */
  readonly strategies: readonly { readonly name: string; readonly rows: number }[];
  /** What each of this table's foreign keys did. */
  readonly policies: readonly {
    readonly foreignKey: string;
    /** `schema.table` of the parent. */
    readonly references: string;
    readonly policy: ForeignKeyPolicy;
    /** This table's rows dropped because the parent row was not exported. */
    readonly dropped: number;
    /** This table's rows whose key was set to NULL (nullify). */
    readonly nulled: number;
    /** Parent rows the key pulled in (include-parents) that nothing else had selected. */
    readonly included: number;
  }[];
}

/** A foreign key checked against the values its parent exports. */
export interface RowCheck {
  readonly edge: ForeignKeyEdge;
  readonly values: KeyLookup;
}

/** Which rows of one table the export writes. */
export interface SelectedTable {
  readonly table: TableInfo;
  /** Identities of the selected rows; null for every row of the table that passes `dropChecks`. */
  readonly keys: KeyLookup | null;
  /** A row whose key is not among its parent's exported values is dropped (restrict, include-parents). */
  readonly dropChecks: readonly RowCheck[];
  /** A row whose key is not among its parent's exported values reads NULL there (nullify). */
  readonly nullChecks: readonly RowCheck[];
  readonly stats: TableSelectionStats;
}

/**
 * Bounds on the single integer column of a table's row identity (`from` inclusive, `to` exclusive,
 * null for unbounded), so that several workers can each export one range of a big table.
 */
export interface KeyRange {
  readonly from: string | null;
  readonly to: string | null;
}

/** The rows chosen for every exported table, readable table by table in the export's one snapshot. */
export interface RowSelection {
  /**
   * Streams a table's selected rows, `columns` in order, as text values (only those in `range` when
   * given). Can be called any number of times, for any columns; a nullified foreign key reads as NULL.
   */
  stream(table: TableInfo, columns: readonly ColumnInfo[], range?: KeyRange): AsyncIterable<TextValue[][]>;
  stats(table: TableInfo): TableSelectionStats;
}

/** A selection made here: every exported table's rows by `schema.table`, e.g. to store for workers. */
export interface ComputedSelection extends RowSelection {
  readonly tables: ReadonlyMap<string, SelectedTable>;
}

/**
 * Chooses the rows to export, unit by unit (see selectionUnits): the union of each table's
 * strategies, grown by include-parents and related strategies, then pruned so that every foreign
 * key points at an exported row (or is NULL). Everything is read inside the source's one snapshot and held as compact key sets only for
 * tables that are not exported whole. Stops before anything is written when a maxRows guard trips.
 */
export async function selectRows(
  source: Source,
  model: SchemaModel,
  config: ResolvedConfig,
  reporter: ProgressReporter,
): Promise<ComputedSelection> {
  const graph = ForeignKeyGraph.build(model, config);
  const { bases, pruned } = await selectUnits(source, graph, config, subsetPropagations(graph, config));
  guardMaxRows(config, bases, pruned);
  const total = [...pruned.values()].reduce((sum, table) => sum + table.rows, 0);
  const partial = [...pruned.values()].filter((table) => table.final.kind !== 'complete').length;
  reporter.report({
    type: 'phase',
    phase: 'subset',
    detail: `${total.toLocaleString('en-US')} rows in ${pruned.size} tables (${partial} subsetted)`,
  });

  const tables = new Map<string, SelectedTable>();
  for (const [name, table] of pruned) {
    const base = bases.get(name) as BaseSelection;
    const resolved = config.tables.get(name);
    const { final } = table;
    tables.set(name, {
      table: table.table,
      keys: final.kind === 'keys' ? final.keys : null,
      dropChecks: final.kind === 'filtered' ? final.checks : [],
      nullChecks: graph
        .parentsOf(table.table)
        .filter((edge) => edge.policy === 'nullify')
        .map((edge) => ({ edge, values: parentValues(pruned, edge) }))
        .filter((check): check is ParentCheck => check.values !== null),
      stats: {
        rows: table.rows,
        strategies: (resolved?.strategies ?? []).map((strategy) => ({
          name: strategy.name,
          rows: base.strategyRows.get(strategy.name) ?? 0,
        })),
        policies: graph.parentsOf(table.table).map((edge) => ({
          foreignKey: edge.name,
          references: qualifiedName(edge.parent),
          policy: edge.policy,
          dropped: table.dropped.get(edge.name) ?? 0,
          nulled: table.nulled.get(edge.name) ?? 0,
          included: (bases.get(qualifiedName(edge.parent)) as BaseSelection).includedBy.get(edge.name) ?? 0,
        })),
      },
    });
  }
  const selected = (table: TableInfo): SelectedTable => {
    const entry = tables.get(qualifiedName(table));
    if (!entry) throw new Error(`${qualifiedName(table)} is not an exported table`);
    return entry;
  };
  return {
    tables,
    stream: (table, columns, range) => streamSelectedRows(source, selected(table), columns, range),
    stats: (table) => selected(table).stats,
  };
}

/**
 * Decides the units in order (see selectionUnits), each table's base selection and final rows.
 * `proceed` may stop before a unit (the plan stops when the next would read too much); the
 * units decided so far are complete and exact.
 */
export async function selectUnits(
  source: Source,
  graph: ForeignKeyGraph,
  config: ResolvedConfig,
  propagations: readonly Propagation[],
  proceed: (unit: readonly TableInfo[]) => boolean = () => true,
): Promise<{ bases: Map<string, BaseSelection>; pruned: Map<string, PrunedTable> }> {
  const bases = new Map<string, BaseSelection>();
  const pruned = new Map<string, PrunedTable>();
  for (const unit of selectionUnits(graph, propagations)) {
    if (!proceed(unit)) break;
    await selectUnitBase({ source, config, propagations, bases, pruned }, graph, unit);
    await pruneUnit({ source, graph, bases, pruned }, unit);
  }
  return { bases, pruned };
}

/** A table's selected rows, `columns` in order, with its checks applied. */
export async function* streamSelectedRows(
  source: Source,
  selected: SelectedTable,
  columns: readonly ColumnInfo[],
  range: KeyRange | undefined,
): AsyncIterable<TextValue[][]> {
  const { dropChecks } = selected;
  const positions = new Map(columns.map((column, i) => [column.name, i]));
  // Only keys whose columns are read need checking; their columns are read again, cast for comparison.
  const nullified = selected.nullChecks
    .map((check) => ({ check, targets: check.edge.columns.map((column) => positions.get(column.name)) }))
    .filter(({ targets }) => targets.some((position) => position !== undefined));
  const checked = [...dropChecks, ...nullified.map(({ check }) => check)];
  const expressions = [
    ...columnRefs(columns, 't'),
    ...checked.flatMap((check) => foreignKeyExpressions(check.edge, 't')),
  ];
  const width = columns.length;
  const identity = rowIdentity(selected.table);
  for await (const batch of readRows(source, selected.table, identity, selected.keys, expressions, range)) {
    if (checked.length === 0) {
      yield batch;
      continue;
    }
    const out: TextValue[][] = [];
    rows: for (const row of batch) {
      let offset = width;
      for (const check of dropChecks) {
        const value = encodeKey(row.slice(offset, offset + check.edge.columns.length));
        offset += check.edge.columns.length;
        if (value !== null && !check.values.has(value)) continue rows;
      }
      for (const { check, targets } of nullified) {
        const value = encodeKey(row.slice(offset, offset + check.edge.columns.length));
        offset += check.edge.columns.length;
        if (value !== null && !check.values.has(value)) {
          for (const position of targets) if (position !== undefined) row[position] = null;
        }
      }
      row.length = width;
      out.push(row);
    }
    if (out.length > 0) yield out;
  }
}

/** Stops the export before anything is written when a table, or the whole, is far larger than intended. */
function guardMaxRows(
  config: ResolvedConfig,
  bases: ReadonlyMap<string, BaseSelection>,
  pruned: ReadonlyMap<string, PrunedTable>,
): void {
  const sources = (name: string) => {
    const base = bases.get(name) as BaseSelection;
    const parts = [
      ...[...base.strategyRows]
        .filter(([, rows]) => rows > 0)
        .map(([strategy, rows]) => `strategy "${strategy}" (${rows.toLocaleString('en-US')})`),
      ...[...base.includedBy].map(
        ([edge, rows]) => `include-parents on ${edge} (${rows.toLocaleString('en-US')})`,
      ),
    ];
    return parts.length > 0 ? parts.join(', ') : 'nothing';
  };
  for (const [name, table] of pruned) {
    const limit = config.tables.get(name)?.maxRows;
    if (limit !== undefined && table.rows > limit) {
      throw new UsageError(
        `${name} would export ${table.rows.toLocaleString('en-US')} rows, more than its maxRows of ${limit.toLocaleString('en-US')}. Its rows came from: ${sources(name)}.`,
        {
          hint: 'Narrow that strategy or foreign-key policy, or raise maxRows in devsnap.config.ts; `devsnap plan` shows estimates without exporting.',
        },
      );
    }
  }
  const limit = config.maxRows.total;
  const total = [...pruned.values()].reduce((sum, table) => sum + table.rows, 0);
  if (limit !== undefined && total > limit) {
    const largest = [...pruned]
      .sort(([, a], [, b]) => b.rows - a.rows)
      .slice(0, 3)
      .map(([name, table]) => `${name} ${table.rows.toLocaleString('en-US')} rows from ${sources(name)}`);
    throw new UsageError(
      `The export would take ${total.toLocaleString('en-US')} rows, more than maxRows.total of ${limit.toLocaleString('en-US')}. Largest: ${largest.join('; ')}.`,
      {
        hint: 'Narrow those strategies or foreign-key policies, or raise maxRows.total in devsnap.config.ts; `devsnap plan` shows estimates without exporting.',
      },
    );
  }
}
