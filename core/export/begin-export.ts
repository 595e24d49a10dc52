import { randomBytes } from 'node:crypto';
import type { SecretsManagerReader } from '../anonymise/anonymise-secret.js';
import { SnapshotAnonymiser, type SnapshotAnonymiserOptions } from '../anonymise/snapshot-anonymiser.js';
import type { DevsnapConfig } from '../config/devsnap-config.js';
import { type ResolvedConfig, resolveSourceConfig } from '../config/resolve-config.js';
import { StoreError } from '../errors.js';
import { MANIFEST_FORMAT_VERSION, type Manifest, newSnapshotId, snapshotPrefix } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { PostgresIntrospector } from '../schema/postgres-introspector.js';
import { writeDropDdl, writeSchemaDdl } from '../schema/schema-ddl.js';
import { qualifiedName, quoteIdent, type SchemaModel, type TableInfo } from '../schema/schema-model.js';
import type { Queryable } from '../source/queryable.js';
import type { Source } from '../source/source.js';
import { enforceSourcePrivileges, type PrivilegedSourcePolicy } from '../source/source-privileges.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { ForeignKeyGraph } from '../subset/foreign-key-graph.js';
import { fromTable, rowIdentity } from '../subset/row-identity.js';
import {
  type ComputedSelection,
  type KeyRange,
  type RowSelection,
  selectRows,
} from '../subset/row-selection.js';
import { checkStrategySql } from '../subset/strategy-sql-check.js';
import { DEVSNAP_VERSION } from '../version.js';
import { fedColumns, INTEGER_TYPES } from './export-table.js';
import { storeSelection } from './stored-selection.js';

/**
 * What the plan step decided, stored at `snapshots/<id>/.work/plan.json` so that workers and the
 * finalize step read it from the store instead of receiving it in a state machine payload.
 */
export interface ExportPlanDocument {
  readonly snapshotId: string;
  readonly createdAt: string;
  readonly configHash: string;
  /** `pg_export_snapshot()` id every worker joins, or null when one process does everything. */
  readonly sharedSnapshot: string | null;
  /** `schema.table` names by foreign-key level: parents in an earlier level than their children. */
  readonly levels: readonly (readonly string[])[];
  /** Every exported table, in the order the in-process export writes them into the manifest. */
  readonly tables: readonly string[];
  /**
   * Tables exported in parts by several workers: each part's range of the row identity's integer
   * column. A table not named here is one part, exported whole.
   */
  readonly ranges: Readonly<Record<string, readonly KeyRange[]>>;
  /** The manifest without tables, totals and timings, which finalize adds from the workers' results. */
  readonly manifestBase: Omit<Manifest, 'tables' | 'totals' | 'timings'>;
}

export interface ExportStepOptions {
  /** An open source; the caller closes it. */
  readonly source: Source;
  readonly store: SnapshotStore;
  readonly config?: DevsnapConfig;
  readonly reporter?: ProgressReporter;
  readonly env?: NodeJS.ProcessEnv;
  readonly secretsManager?: SecretsManagerReader;
  /** A source role that can do more than read: warn (the CLI's default), refuse (the pipeline's), or allow. */
  readonly privilegedSource?: PrivilegedSourcePolicy;
}

export interface BeginExportOptions extends ExportStepOptions {
  readonly snapshotId?: string;
  readonly sharedSnapshot?: string;
  /** A table with more selected rows than this is exported in parts. @default 1,000,000 */
  readonly partRows?: number;
}

/** What workers need besides the plan in the store. */
export interface BegunExport {
  readonly plan: ExportPlanDocument;
  /**
   * The run's key for digests of stored key sets over anonymised columns. It travels to the
   * workers in their invocation, never through the store, and is never logged.
   */
  readonly digestKey: string;
}

/** One unit of work: a part of a table (part 0 of a table exported whole). */
export interface ExportPart {
  readonly table: string;
  readonly part: number;
}

export const DEFAULT_PART_ROWS = 1_000_000;
/** At most this many parts per table. */
const MAX_PARTS = 32;
/**
 * At most this many Map items (table parts) per run: each costs about seven events of an execution's
 * 25,000-event history, and the items travel in the plan step's output (256 KiB at most).
 */
const MAX_ITEMS = 2_000;

export const workPrefix = (snapshotId: string): string => `${snapshotPrefix(snapshotId)}.work/`;
export const planKey = (snapshotId: string): string => `${workPrefix(snapshotId)}plan.json`;
export const selectionPrefix = (snapshotId: string): string => `${workPrefix(snapshotId)}selection/`;
/** The known-value index the plan step built (keyed digests only, see KnownValueIndex). */
export const knownValuesKey = (snapshotId: string): string => `${workPrefix(snapshotId)}known-values.bin`;

/** The parts of the given tables (by default all of them) in plan order. */
export function planParts(plan: ExportPlanDocument, tables: readonly string[] = plan.tables): ExportPart[] {
  return tables.flatMap((table) =>
    Array.from({ length: plan.ranges[table]?.length ?? 1 }, (_, part) => ({ table, part })),
  );
}

/** What every export step builds inside the shared snapshot: schema, config, rows, anonymisation. */
export interface PreparedExport<S extends RowSelection = RowSelection> {
  readonly model: SchemaModel;
  readonly config: ResolvedConfig;
  readonly selection: S;
  readonly anonymiser: SnapshotAnonymiser;
  /** Which database this is, for the manifest: an import refuses to replace its own source. */
  readonly sourceIdentity: SourceIdentity;
}

export interface SourceIdentity {
  readonly database?: string;
  readonly systemIdentifier?: string;
}

/**
 * The source's name and server identity. pg_control_system is called only where the role may
 * (an error would abort the export's one transaction); managed services that hide it give none.
 */
async function readSourceIdentity(source: Queryable): Promise<SourceIdentity> {
  try {
    const [row] = await source.query<{ database: string; system: string | null }>(
      `SELECT pg_catalog.current_database()::text AS database,
              CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
                   THEN (pg_catalog.pg_control_system()).system_identifier::text END AS system`,
    );
    return { database: row?.database, ...(row?.system ? { systemIdentifier: row.system } : {}) };
  } catch {
    return {};
  }
}

/**
 * Introspects, resolves the config, selects the rows and applies the anonymisation gate; builds
 * the known-value index (keyed with `runKey` when other processes will read it).
 */
export function prepareExport(
  options: ExportStepOptions,
  runKey?: string,
): Promise<PreparedExport<ComputedSelection>> {
  return prepareWith(
    options,
    (model, config, reporter) => {
      reporter.report({ type: 'phase', phase: 'select' });
      return selectRows(options.source, model, config, reporter);
    },
    undefined,
    runKey === undefined ? undefined : { runKey },
  );
}

/**
 * As prepareExport, with the rows chosen by `select` (a worker reads the plan step's selection),
 * and values sampled for the classifier from `sampleTables` only when given.
 */
export async function prepareWith<S extends RowSelection>(
  options: ExportStepOptions,
  select: (model: SchemaModel, config: ResolvedConfig, reporter: ProgressReporter) => Promise<S>,
  sampleTables?: readonly string[],
  knownValues?: SnapshotAnonymiserOptions['knownValues'],
): Promise<PreparedExport<S>> {
  const { source } = options;
  const reporter = options.reporter ?? silentReporter;
  await enforceSourcePrivileges(source, options.privilegedSource ?? 'warn', reporter);
  reporter.report({ type: 'phase', phase: 'introspect', detail: source.serverVersion });
  const model = await new PostgresIntrospector(source).introspect();
  const config = await resolveSourceConfig(source, options.config ?? {}, model);
  await checkStrategySql(source, config);
  const selection = await select(model, config, reporter);
  const anonymiser = await SnapshotAnonymiser.prepare({
    source,
    model,
    config,
    selection,
    reporter,
    env: options.env,
    secretsManager: options.secretsManager,
    sampleTables,
    knownValues,
  });
  return { model, config, selection, anonymiser, sourceIdentity: await readSourceIdentity(source) };
}

/**
 * First step of a distributed export: validates the config, selects the rows and applies the
 * anonymisation gate (so a bad config stops before any worker starts), stores the selection's key
 * sets for the workers, splits big tables into parts, writes the schema files and the plan. Workers
 * then export the parts level by level (exportTables) and finalizeExport publishes. Nothing here
 * moves `latest`.
 */
export async function beginExport(options: BeginExportOptions): Promise<BegunExport> {
  const digestKey = randomBytes(32).toString('base64url');
  const prepared = await prepareExport(options, digestKey);
  const snapshotId = options.snapshotId ?? newSnapshotId();
  const knownValues = prepared.anonymiser.knownValueBytes();
  if (knownValues) await options.store.put(knownValuesKey(snapshotId), knownValues);
  await storeSelection(
    prepared.selection,
    { store: options.store, prefix: selectionPrefix(snapshotId), digestKey },
    (table, column) => prepared.anonymiser.rewrites(table, column),
  );
  const ranges = await partRanges(options.source, prepared, options.partRows ?? DEFAULT_PART_ROWS);
  const plan = await writeExportPlan(prepared, {
    store: options.store,
    snapshotId,
    sharedSnapshot: options.sharedSnapshot ?? null,
    ranges,
  });
  return { plan, digestKey };
}

/**
 * Ranges of the row identity for tables with more than `partRows` selected rows, split evenly
 * between the identity's smallest and largest value. Only a table identified by one integer column
 * can be split, and not one with a column whose outputs must stay distinct (one process resolves
 * those collisions). The first and last range are open, so no row falls outside.
 */
async function partRanges(
  source: Source,
  prepared: PreparedExport,
  partRows: number,
): Promise<Record<string, KeyRange[]>> {
  const ranges: Record<string, KeyRange[]> = {};
  // Extra parts left once every table has its one; tables beyond the budget are exported whole.
  let spare = MAX_ITEMS - prepared.config.tables.size;
  for (const { table } of prepared.config.tables.values()) {
    const rows = prepared.selection.stats(table).rows;
    const identity = rowIdentity(table).columns;
    const [column] = identity ?? [];
    const wanted = Math.min(MAX_PARTS, Math.ceil(rows / partRows), spare + 1);
    if (wanted < 2 || identity?.length !== 1 || !column || !INTEGER_TYPES.has(column.baseType)) continue;
    if (prepared.anonymiser.keepsDistinct(table)) continue;
    const [bounds] = await source.query<{ low: string | null; high: string | null }>(
      `SELECT min(t.${quoteIdent(column.name)})::text AS low, max(t.${quoteIdent(column.name)})::text AS high FROM ${fromTable(table, 't')}`,
    );
    if (!bounds?.low || !bounds.high) continue;
    const low = BigInt(bounds.low);
    const span = BigInt(bounds.high) - low + 1n;
    const cuts = Array.from({ length: wanted - 1 }, (_, i) =>
      String(low + (span * BigInt(i + 1)) / BigInt(wanted)),
    );
    const edges = [null, ...new Set(cuts), null];
    if (edges.length < 3) continue;
    ranges[qualifiedName(table)] = edges.slice(1).map((to, i) => ({ from: edges[i] ?? null, to }));
    spare -= edges.length - 2;
  }
  return ranges;
}

/** Writes the schema files and the plan of a prepared export (beginExport and the in-process export). */
export async function writeExportPlan(
  prepared: PreparedExport,
  target: {
    readonly store: SnapshotStore;
    readonly snapshotId: string;
    readonly sharedSnapshot: string | null;
    readonly ranges?: Readonly<Record<string, readonly KeyRange[]>>;
  },
): Promise<ExportPlanDocument> {
  const { model, config, anonymiser } = prepared;
  const { store, snapshotId } = target;
  const createdAt = new Date().toISOString();
  const prefix = snapshotPrefix(snapshotId);
  const ddl = writeSchemaDdl(model);
  const preData = await store.put(`${prefix}schema/pre-data.sql`, ddl.preData);
  const postData = await store.put(`${prefix}schema/post-data.sql`, ddl.postData);
  const drop = await store.put(`${prefix}schema/drop.sql`, writeDropDdl(model));
  const plan: ExportPlanDocument = {
    snapshotId,
    createdAt,
    configHash: config.hash,
    sharedSnapshot: target.sharedSnapshot,
    levels: separateFollowers(foreignKeyLevels(model, config), config, anonymiser),
    tables: [...config.tables.values()].map(({ table }) => qualifiedName(table)),
    ranges: target.ranges ?? {},
    manifestBase: {
      formatVersion: MANIFEST_FORMAT_VERSION,
      snapshotId,
      createdAt,
      tool: { name: 'devsnap', version: DEVSNAP_VERSION },
      source: { engine: 'postgresql', serverVersion: model.serverVersion, ...prepared.sourceIdentity },
      configHash: config.hash,
      schema: {
        preData,
        postData,
        drop,
        enums: model.enums.map(({ schema, name }) => ({ schema, name })),
        domains: model.domains.map(({ schema, name }) => ({ schema, name })),
        uncaptured: model.uncaptured.map((object) => ({ ...object })),
      },
      anonymisation: anonymiser.summary(),
      relations: manifestRelations(ForeignKeyGraph.build(model, config)),
      sequences: model.sequences.map((sequence) => ({
        schema: sequence.schema,
        name: sequence.name,
        start: sequence.start,
        increment: sequence.increment,
        ownedBy: sequence.ownedBy ? { ...sequence.ownedBy } : null,
        feeds: fedColumns(model, sequence),
        lastValue: sequence.lastValue,
      })),
    },
  };
  await store.put(planKey(snapshotId), JSON.stringify(plan));
  return plan;
}

/** Every virtual edge of the graph, as the import checks it. */
function manifestRelations(graph: ForeignKeyGraph): Manifest['relations'] {
  return graph.edges.flatMap((edge) => {
    const { virtual } = edge;
    if (!virtual) return [];
    return [
      {
        name: edge.name,
        origin: virtual.origin,
        child: { schema: edge.child.schema, name: edge.child.name },
        parent: { schema: edge.parent.schema, name: edge.parent.name },
        parts: virtual.parts.map((part, i) => ({
          column: part.column.name,
          path: [...part.path],
          cast: part.cast,
          referencedColumn: edge.referencedColumns[i]?.name ?? '',
        })),
        when: virtual.when ? { column: virtual.when.column.name, values: [...virtual.when.values] } : null,
      },
    ];
  });
}

export async function readExportPlan(store: SnapshotStore, snapshotId: string): Promise<ExportPlanDocument> {
  const text = await store.readText(planKey(snapshotId));
  if (text === null) {
    throw new StoreError(`No export plan for snapshot ${snapshotId} at ${planKey(snapshotId)}.`, {
      hint: 'Each run starts with the plan step; start a new run of the state machine.',
    });
  }
  return JSON.parse(text) as ExportPlanDocument;
}

/**
 * A table whose foreign key follows a unique anonymised key must be exported after that key's
 * table (it reads the retries that worker stored), so within a level (a cycle) such a table moves to
 * a level of its own right after. Levels only order the work: splitting one is always safe.
 */
function separateFollowers(
  levels: readonly string[][],
  config: ResolvedConfig,
  anonymiser: SnapshotAnonymiser,
): string[][] {
  const followed = new Map(
    [...config.tables.entries()].map(([name, { table }]) => [name, anonymiser.followedKeys(table)]),
  );
  const separated: string[][] = [];
  for (const level of levels) {
    let pending = level;
    while (pending.length > 0) {
      const waits = (name: string) =>
        pending.some(
          (other) => other !== name && (followed.get(name) ?? []).some((key) => key.startsWith(`${other}.`)),
        );
      const now = pending.filter((name) => !waits(name));
      // Tables that follow each other's keys cannot be ordered; they stay together.
      if (now.length === 0) {
        separated.push(pending);
        break;
      }
      separated.push(now);
      pending = pending.filter((name) => waits(name));
    }
  }
  return separated;
}

/**
 * Exported tables by foreign-key level: a table sits one level below the deepest parent outside its
 * own cycle, so a level's tables can be exported in parallel once the levels above are done.
 */
function foreignKeyLevels(model: SchemaModel, config: ResolvedConfig): string[][] {
  const graph = ForeignKeyGraph.build(model, config);
  const level = new Map<string, number>();
  const levels: string[][] = [];
  const exported = new Set([...config.tables.values()].map(({ table }) => qualifiedName(table)));
  // Components come parents first; a cycle's members share one level.
  for (const component of graph.components) {
    const members = component.tables.map((table: TableInfo) => qualifiedName(table));
    const inside = new Set(members);
    const parents = component.tables
      .flatMap((table) => graph.parentsOf(table))
      .map((edge) => qualifiedName(edge.parent))
      .filter((parent) => !inside.has(parent));
    const depth = Math.max(-1, ...parents.map((parent) => level.get(parent) ?? -1)) + 1;
    for (const name of members) {
      level.set(name, depth);
      if (!exported.has(name)) continue;
      levels[depth] = [...(levels[depth] ?? []), name];
    }
  }
  return levels.filter((names) => names !== undefined && names.length > 0);
}
