import { StoreError, UsageError } from '../errors.js';
import type { ColumnInfo, TableInfo } from '../schema/schema-model.js';
import { qualifiedName } from '../schema/schema-model.js';
import type { Source } from '../source/source.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import type { ForeignKeyEdge, ForeignKeyGraph } from '../subset/foreign-key-graph.js';
import { DigestKeySet, type KeyLookup, KeySet, keyDigest } from '../subset/key-set.js';
import { rowIdentity } from '../subset/row-identity.js';
import {
  type ComputedSelection,
  type RowCheck,
  type RowSelection,
  type SelectedTable,
  streamSelectedRows,
  type TableSelectionStats,
} from '../subset/row-selection.js';

/** A key set in the store: raw keys, or keyed digests when its columns are anonymised. */
interface StoredKeys {
  readonly key: string;
  readonly digest: boolean;
}

interface StoredCheck {
  readonly foreignKey: string;
  readonly values: StoredKeys;
}

interface StoredTable {
  readonly keys: StoredKeys | null;
  readonly dropChecks: readonly StoredCheck[];
  readonly nullChecks: readonly StoredCheck[];
  readonly stats: TableSelectionStats;
}

/** Per `schema.table` what it exports; the key sets sit in files of their own beside it. */
interface SelectionDocument {
  /** A digest made with the run's digest key, so a worker given another key stops instead of matching nothing. */
  readonly keyCheck: string;
  readonly tables: Record<string, StoredTable>;
}

const KEY_CHECK_INPUT = 'devsnap-digest-key-check';

export interface SelectionStorage {
  readonly store: SnapshotStore;
  /** Where the selection lives, e.g. `snapshots/<id>/.work/selection/`. */
  readonly prefix: string;
  /**
   * Per-run secret for the digests of key sets over anonymised columns: such values never reach a
   * file raw, and without the key their digests cannot be tested against guesses either.
   */
  readonly digestKey: string;
}

/**
 * Stores a selection for the workers of a distributed export, so that each reads the key sets its
 * tables need instead of selecting again. Key sets shared by several children are stored once.
 * `anonymised(table, column)` tells which columns' values may be kept only as digests.
 */
export async function storeSelection(
  selection: ComputedSelection,
  storage: SelectionStorage,
  anonymised: (table: TableInfo, column: ColumnInfo) => boolean,
): Promise<void> {
  const { store, prefix, digestKey } = storage;
  const stored = new Map<KeyLookup, StoredKeys>();
  const storeKeys = async (keys: KeyLookup, digest: boolean): Promise<StoredKeys> => {
    const existing = stored.get(keys);
    if (existing) return existing;
    if (!(keys instanceof KeySet)) throw new Error('Only a selection made here can be stored');
    const entry = { key: `${prefix}keys/${stored.size}.bin`, digest };
    stored.set(keys, entry);
    await store.put(entry.key, digest ? DigestKeySet.of(keys, digestKey).toBytes() : keys.toBytes());
    return entry;
  };
  // The values are the parent's: digests when its referenced columns are anonymised.
  const storeCheck = async ({ edge, values }: RowCheck): Promise<StoredCheck> => ({
    foreignKey: edge.name,
    values: await storeKeys(
      values,
      edge.referencedColumns.some((column) => anonymised(edge.parent, column)),
    ),
  });
  const tables: Record<string, StoredTable> = {};
  for (const [name, selected] of selection.tables) {
    const { table } = selected;
    const identity = rowIdentity(table).columns ?? [];
    tables[name] = {
      keys: selected.keys
        ? await storeKeys(
            selected.keys,
            identity.some((column) => anonymised(table, column)),
          )
        : null,
      dropChecks: await Promise.all(selected.dropChecks.map(storeCheck)),
      nullChecks: await Promise.all(selected.nullChecks.map(storeCheck)),
      stats: selected.stats,
    };
  }
  const document: SelectionDocument = { keyCheck: keyDigest(KEY_CHECK_INPUT, digestKey), tables };
  await store.put(`${prefix}selection.json`, JSON.stringify(document));
}

/**
 * The selection a plan step stored, for a worker inside the same database snapshot. Key sets are
 * read when a table is first streamed, so a worker reads only what its tables (and the parents its
 * rules read) need.
 */
export async function loadSelection(
  source: Source,
  graph: ForeignKeyGraph,
  storage: SelectionStorage,
): Promise<RowSelection> {
  const { store, prefix, digestKey } = storage;
  const text = await store.readText(`${prefix}selection.json`);
  if (text === null) {
    throw new StoreError(`The export's row selection is missing at ${prefix}selection.json.`, {
      hint: 'The plan step writes it; start a new run of the state machine.',
    });
  }
  const document = JSON.parse(text) as SelectionDocument;
  if (document.keyCheck !== keyDigest(KEY_CHECK_INPUT, digestKey)) {
    throw new UsageError('This worker was given another digest key than the plan step used.', {
      hint: 'Pass each worker the run fields the plan step returned (the state machine does); start a new run.',
    });
  }
  const entry = (table: TableInfo): StoredTable => {
    const stored = document.tables[qualifiedName(table)];
    if (!stored) throw new Error(`${qualifiedName(table)} is not an exported table`);
    return stored;
  };
  const keySets = new Map<string, Promise<KeyLookup>>();
  const readKeys = (keys: StoredKeys): Promise<KeyLookup> => {
    let pending = keySets.get(keys.key);
    if (!pending) {
      pending = readBytes(store, keys.key).then((bytes) =>
        keys.digest ? DigestKeySet.fromBytes(bytes, digestKey) : KeySet.fromBytes(bytes),
      );
      keySets.set(keys.key, pending);
    }
    return pending;
  };
  const readChecks = (table: TableInfo, checks: readonly StoredCheck[]): Promise<RowCheck[]> =>
    Promise.all(
      checks.map(async (check) => ({
        edge: edgeNamed(graph, table, check.foreignKey),
        values: await readKeys(check.values),
      })),
    );
  const loaded = new Map<string, Promise<SelectedTable>>();
  const load = (table: TableInfo): Promise<SelectedTable> => {
    const name = qualifiedName(table);
    let pending = loaded.get(name);
    if (!pending) {
      const stored = entry(table);
      pending = (async () => ({
        table,
        keys: stored.keys ? await readKeys(stored.keys) : null,
        dropChecks: await readChecks(table, stored.dropChecks),
        nullChecks: await readChecks(table, stored.nullChecks),
        stats: stored.stats,
      }))();
      loaded.set(name, pending);
    }
    return pending;
  };
  return {
    stream: (table, columns, range) =>
      (async function* () {
        yield* streamSelectedRows(source, await load(table), columns, range);
      })(),
    stats: (table) => entry(table).stats,
  };
}

function edgeNamed(graph: ForeignKeyGraph, table: TableInfo, name: string): ForeignKeyEdge {
  const edge = graph.parentsOf(table).find((candidate) => candidate.name === name);
  if (!edge) throw new Error(`${qualifiedName(table)} has no foreign key ${name} in this config`);
  return edge;
}

async function readBytes(store: SnapshotStore, key: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
