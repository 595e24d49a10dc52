import type { ResolvedConfig } from '../config/resolve-config.js';
import { qualifiedName, type SchemaModel, type TableInfo } from '../schema/schema-model.js';
import type { Queryable } from '../source/queryable.js';
import type { Source } from '../source/source.js';
import { type ForeignKeyEdge, ForeignKeyGraph } from './foreign-key-graph.js';
import { reasonsFor } from './plan-reasons.js';
import { type Propagation, subsetPropagations } from './propagation.js';
import { fromTable } from './row-identity.js';
import { selectUnits } from './row-selection.js';
import { countRows, picksEveryRow, strategySelect } from './selection-closure.js';
import { selectionUnits } from './selection-units.js';
import type { ForeignKeyPolicy } from './strategy.js';

/** What an export with this config would take, table by table, without reading any rows. */
export interface SubsetPlan {
  /** Parents before children; the tables of a cycle next to each other. */
  readonly tables: readonly TablePlan[];
  readonly estimatedRows: number;
  readonly maxRows: { readonly perTable?: number; readonly total?: number };
  /** Estimates above a maxRows guard: the export would stop. */
  readonly warnings: readonly string[];
}

export interface TablePlan {
  /** `schema.table` */
  readonly table: string;
  /** Rows in the source table (planner estimate, or a count when it has none). */
  readonly sourceRows: number;
  readonly estimatedRows: number;
  /**
   * `exact`: counted by running the export's own selection over keys (the plan does so while the
   * tables it reads stay small); `rough`: from planner statistics and strategies' estimates.
   */
  readonly estimate: 'exact' | 'rough';
  readonly strategies: readonly {
    readonly name: string;
    readonly description: string;
    readonly estimatedRows: number;
  }[];
  readonly foreignKeys: readonly {
    readonly name: string;
    readonly references: string;
    readonly columns: readonly string[];
    readonly policy: ForeignKeyPolicy;
    /** Partitions that declare it, when it is lifted from them. */
    readonly declaredOn: readonly string[];
    /** Where a relation the database does not declare comes from (config, django, rails); null when declared. */
    readonly virtual: 'config' | 'django' | 'rails' | null;
  }[];
  /** Why the table is in the snapshot and what shapes its rows, one sentence each. */
  readonly reasons: readonly string[];
  /** The other tables of its cycle of foreign keys, if any. */
  readonly cycle: readonly string[];
  readonly maxRows: number | null;
}

/**
 * The plan runs the export's selection over keys, unit by unit, while the tables it reads hold at
 * most this many rows in all (a few seconds of reading); the rest is estimated from statistics.
 */
const EXACT_READ_ROWS = 2_000_000;

/** Counting a strategy's rows is cheap up to this many source rows; above, its own estimate is used. */
const COUNT_LIMIT = 1_000_000;

interface ColumnStats {
  readonly nullFraction: number;
  /** Distinct non-null values (pg_stats.n_distinct resolved against the row count), or null. */
  readonly distinct: number | null;
}

/**
 * Plans a subset: the foreign-key graph and its policies, each table's strategies and the rules
 * that grow or prune it, and row counts: exact where the export's own selection over keys is cheap
 * (see EXACT_READ_ROWS), else rough estimates from planner statistics (pg_class.reltuples,
 * pg_stats), strategies' own estimates and cheap counts. `devsnap plan` prints it; the export
 * runs the same graph and rules.
 */
export async function planSubset(
  source: Source,
  model: SchemaModel,
  config: ResolvedConfig,
  options: { readonly exactReadRows?: number } = {},
): Promise<SubsetPlan> {
  const graph = ForeignKeyGraph.build(model, config);
  const propagations = subsetPropagations(graph, config);
  const unitOf = new Map<TableInfo, readonly TableInfo[]>();
  for (const unit of selectionUnits(graph, propagations)) for (const table of unit) unitOf.set(table, unit);
  const stats = await readColumnStats(source);
  const sourceRows = new Map<string, number>();
  for (const table of graph.tables) sourceRows.set(qualifiedName(table), await tableRows(source, table));
  const rowsOf = (table: TableInfo) => sourceRows.get(qualifiedName(table)) ?? 0;
  let budget = options.exactReadRows ?? EXACT_READ_ROWS;
  const exact = await selectUnits(source, graph, config, propagations, (unit) => {
    budget -= unit.reduce((sum, table) => sum + Math.max(0, rowsOf(table)), 0);
    return budget >= 0;
  });
  const exactBase = new Map(
    [...exact.bases].map(([name, base]) => [name, base.complete ? base.completeRows : base.keys.size]),
  );

  // Own strategies: what each would pick, and the union (assumed independent) per table.
  const strategyEstimates = new Map<string, { name: string; description: string; estimatedRows: number }[]>();
  const own = new Map<string, number>();
  const complete = new Set<string>();
  const limited = new Map<string, { limit: number; estimate: number; candidates: number }[]>();
  for (const [name, resolved] of config.tables) {
    const total = rowsOf(resolved.table);
    const estimates = [];
    for (const strategy of resolved.strategies) {
      const rows = strategy.rows(resolved.table);
      let estimate = 0;
      if (rows.kind === 'query') {
        if (picksEveryRow(rows)) {
          estimate = total;
          complete.add(name);
        } else {
          estimate = await queryEstimate(source, resolved.table, rows, total);
          if (rows.limit !== undefined && !exact.pruned.has(name)) {
            // A limit picks after the restriction: what matters is how many rows it picks among.
            const candidates = await queryEstimate(
              source,
              resolved.table,
              { ...rows, limit: undefined, narrow: undefined, estimate: undefined },
              total,
            );
            limited.set(name, [...(limited.get(name) ?? []), { limit: rows.limit, estimate, candidates }]);
          }
        }
      }
      estimates.push({
        name: strategy.name,
        description: strategy.describe(),
        estimatedRows: Math.round(estimate),
      });
    }
    const counted = exact.bases.get(name)?.strategyRows;
    if (counted) for (const entry of estimates) entry.estimatedRows = counted.get(entry.name) ?? 0;
    strategyEstimates.set(name, estimates);
    own.set(
      name,
      union(
        total,
        estimates.map((e) => e.estimatedRows),
      ),
    );
  }

  // Growth by include-parents and related strategies, iterated until the estimates settle.
  const selected = new Map([...own, ...exactBase]);
  const contributions = new Map<Propagation, number>();
  for (let round = 0; round < 50; round++) {
    let changed = false;
    for (const propagation of propagations) {
      const target = qualifiedName(propagation.to);
      if (complete.has(target) || exactBase.has(target)) continue;
      const from = selected.get(qualifiedName(propagation.from)) ?? 0;
      const value = propagatedRows(
        propagation,
        from,
        rowsOf(propagation.from),
        rowsOf(propagation.to),
        stats,
      );
      if (Math.abs((contributions.get(propagation) ?? 0) - value) > 0.5) changed = true;
      contributions.set(propagation, value);
    }
    for (const name of config.tables.keys()) {
      if (complete.has(name) || exactBase.has(name)) continue;
      const parts = propagations
        .filter((p) => qualifiedName(p.to) === name)
        .map((p) => contributions.get(p) ?? 0);
      selected.set(name, union(rowsOf(graph.table(name)), [own.get(name) ?? 0, ...parts]));
    }
    if (!changed) break;
  }

  // Pruning, parents first: a foreign key passes a row with the share of its parent that survives.
  const final = new Map<string, number>();
  for (const table of graph.orderedTables()) {
    const name = qualifiedName(table);
    const counted = exact.pruned.get(name);
    if (counted) {
      final.set(name, counted.rows);
      continue;
    }
    const before = selected.get(name) ?? 0;
    let pass = 1;
    for (const edge of graph.parentsOf(table)) {
      if (edge.policy === 'nullify') continue;
      const parent = qualifiedName(edge.parent);
      const parentBefore = selected.get(parent) ?? 0;
      const parentAfter = final.get(parent) ?? parentBefore;
      const parentTotal = rowsOf(edge.parent);
      if (parentAfter >= parentTotal) continue;
      const survival = parentBefore > 0 ? Math.min(1, parentAfter / parentBefore) : 0;
      const nulls = nullFraction(stats, edge);
      // Rows chosen through this key point at selected parents; the rest at any parent.
      const derived = Math.min(1, derivedShare(edge, propagations, contributions, before));
      const random = nulls + (1 - nulls) * (parentTotal > 0 ? parentAfter / parentTotal : 0);
      // Keys of one row tend to point into the same slice of the data: the strictest one rules.
      pass = Math.min(pass, derived * survival + (1 - derived) * random);
    }
    // A limited strategy keeps its count as long as enough of its candidates pass.
    const topUp = (limited.get(name) ?? []).reduce(
      (sum, pick) => sum + Math.max(0, Math.min(pick.limit, pick.candidates * pass) - pick.estimate * pass),
      0,
    );
    final.set(name, Math.min(rowsOf(table), before * pass + topUp));
  }

  const tables = graph.orderedTables().map((table): TablePlan => {
    const name = qualifiedName(table);
    const resolved = config.tables.get(name);
    const cycle = graph
      .componentOf(table)
      .tables.filter((t) => t !== table)
      .map(qualifiedName);
    return {
      table: name,
      sourceRows: Math.round(rowsOf(table)),
      estimatedRows: Math.round(final.get(name) ?? 0),
      estimate: exact.pruned.has(name) ? 'exact' : 'rough',
      strategies: strategyEstimates.get(name) ?? [],
      foreignKeys: graph.parentsOf(table).map((edge) => ({
        name: edge.name,
        references: qualifiedName(edge.parent),
        columns: edge.columns.map((column) => column.name),
        policy: edge.policy,
        declaredOn: edge.partitions,
        virtual: edge.virtual?.origin ?? null,
      })),
      reasons: reasonsFor({
        graph,
        config,
        table,
        reason: resolved?.reason ?? 'default strategy',
        strategies: strategyEstimates.get(name) ?? [],
        propagations,
        unit: unitOf.get(table) ?? [table],
        partialParent: (edge) => (final.get(qualifiedName(edge.parent)) ?? 0) < rowsOf(edge.parent),
      }),
      cycle,
      maxRows: resolved?.maxRows ?? null,
    };
  });
  const estimatedRows = tables.reduce((sum, table) => sum + table.estimatedRows, 0);
  const warnings = [
    ...tables
      .filter((table) => table.maxRows !== null && table.estimatedRows > table.maxRows)
      .map(
        (table) =>
          `${table.table}: about ${table.estimatedRows.toLocaleString('en-US')} rows, over its maxRows of ${table.maxRows?.toLocaleString('en-US')}`,
      ),
    ...(config.maxRows.total !== undefined && estimatedRows > config.maxRows.total
      ? [
          `about ${estimatedRows.toLocaleString('en-US')} rows in all, over maxRows.total of ${config.maxRows.total.toLocaleString('en-US')}`,
        ]
      : []),
  ];
  return { tables, estimatedRows, maxRows: config.maxRows, warnings };
}

/** 1 − Π(1 − share): the size of a union of independent picks. */
function union(total: number, parts: readonly number[]): number {
  if (total <= 0) return Math.max(0, ...parts);
  let missing = 1;
  for (const part of parts) missing *= 1 - Math.min(1, Math.max(0, part) / total);
  return total * (1 - missing);
}

function propagatedRows(
  propagation: Propagation,
  fromRows: number,
  fromTotal: number,
  toTotal: number,
  stats: ReadonlyMap<string, ColumnStats>,
): number {
  const { edge } = propagation;
  const column = columnStats(stats, edge);
  const nonNull = 1 - column.nullFraction;
  if (propagation.direction === 'children') {
    return fromTotal > 0 ? toTotal * nonNull * Math.min(1, fromRows / fromTotal) : 0;
  }
  // Distinct parents among k rows drawn from D referenced values: D (1 − (1 − 1/D)^k).
  const distinct = Math.max(1, Math.min(toTotal, column.distinct ?? toTotal));
  const drawn = fromRows * nonNull;
  if (fromRows >= fromTotal) return distinct;
  return distinct * (1 - (1 - 1 / distinct) ** drawn);
}

/** Share of a table's selected rows that were chosen through `edge` (so their parents are selected). */
function derivedShare(
  edge: ForeignKeyEdge,
  propagations: readonly Propagation[],
  contributions: ReadonlyMap<Propagation, number>,
  selected: number,
): number {
  if (edge.policy === 'include-parents') return 1;
  if (selected <= 0) return 0;
  const through = propagations
    .filter((p) => p.edge === edge && p.direction === 'children' && p.to === edge.child)
    .reduce((sum, p) => sum + (contributions.get(p) ?? 0), 0);
  return through / selected;
}

function columnStats(stats: ReadonlyMap<string, ColumnStats>, edge: ForeignKeyEdge): ColumnStats {
  if (edge.columns.length !== 1) return { nullFraction: 0, distinct: null };
  return (
    stats.get(`${qualifiedName(edge.child)}.${edge.columns[0]?.name}`) ?? { nullFraction: 0, distinct: null }
  );
}

function nullFraction(stats: ReadonlyMap<string, ColumnStats>, edge: ForeignKeyEdge): number {
  return columnStats(stats, edge).nullFraction;
}

async function readColumnStats(source: Queryable): Promise<Map<string, ColumnStats>> {
  const rows = await source.query<{ name: string; null_frac: string; n_distinct: string; reltuples: string }>(
    `SELECT format('%s.%s.%s', s.schemaname, s.tablename, s.attname) AS name, s.null_frac::text AS null_frac,
            s.n_distinct::text AS n_distinct, c.reltuples::text AS reltuples
     FROM pg_catalog.pg_stats s
     JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
     JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
     WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')`,
  );
  const result = new Map<string, ColumnStats>();
  for (const row of rows) {
    const nullFraction = Number(row.null_frac);
    const nDistinct = Number(row.n_distinct);
    const tuples = Number(row.reltuples);
    // Negative n_distinct is a share of the rows; positive a count.
    const distinct =
      nDistinct < 0 ? (tuples > 0 ? -nDistinct * tuples : null) : nDistinct > 0 ? nDistinct : null;
    result.set(row.name, { nullFraction, distinct });
  }
  return result;
}

async function tableRows(source: Queryable, table: TableInfo): Promise<number> {
  if (table.estimatedRows > 0 || (table.estimatedRows === 0 && table.kind === 'table'))
    return table.estimatedRows;
  // Never analysed (-1; a partitioned table until it is analysed as a whole): count.
  return countRows(source, `SELECT 1 FROM ${fromTable(table, 't')}`);
}

async function queryEstimate(
  source: Queryable,
  table: TableInfo,
  rows: Parameters<typeof strategySelect>[1],
  total: number,
): Promise<number> {
  const capped = (value: number) => Math.min(value, total, rows.limit ?? Number.POSITIVE_INFINITY);
  if (rows.estimate && 'rows' in rows.estimate) return capped(rows.estimate.rows);
  if (rows.estimate && 'fraction' in rows.estimate) return capped(rows.estimate.fraction * total);
  if (total <= COUNT_LIMIT) return countRows(source, strategySelect(table, rows, ['1']), rows.params);
  return capped(total / 10);
}
