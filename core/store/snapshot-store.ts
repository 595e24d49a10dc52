/** Where snapshots live. Keys are `/`-separated paths relative to the store's root (see DESIGN.md). */
export interface SnapshotStore {
  /** Human-readable location, e.g. `/home/me/snapshots` or `s3://bucket/prefix/`. */
  readonly location: string;
  /**
   * Writes an object. Readers never see a partial object: it appears whole or not at all.
   * Returns the size and sha256 of what was written.
   */
  put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array | string): Promise<StoredObject>;
  /** Streams an object; throws StoreError naming the key when it does not exist. */
  get(key: string): Promise<AsyncIterable<Uint8Array>>;
  /** Reads a small object whole (manifests, pointers); null when it does not exist. */
  readText(key: string): Promise<string | null>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every object under a prefix. */
  deletePrefix(prefix: string): Promise<void>;
  /** A local file path for the key when the store is local (import reads it in place), else undefined. */
  localPath(key: string): string | undefined;
}

export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A small object's text and the store's version tag for it (an S3 ETag). */
export interface VersionedText {
  readonly text: string;
  readonly version: string;
}

/**
 * Compare-and-swap writes, for stores where several writers can meet (S3). publishLatest uses
 * them to move latest.json; a store without them gets a plain put.
 */
export interface ConditionalWrites {
  readVersioned(key: string): Promise<VersionedText | null>;
  /**
   * Writes only if the object is still at `version` (null: only if it does not exist).
   * Resolves null when another writer got there first.
   */
  putIfVersion(key: string, body: string, version: string | null): Promise<StoredObject | null>;
}

export function hasConditionalWrites(store: SnapshotStore): store is SnapshotStore & ConditionalWrites {
  const candidate = store as Partial<ConditionalWrites>;
  return typeof candidate.readVersioned === 'function' && typeof candidate.putIfVersion === 'function';
}

/** Where a key lives, for messages: the store's location joined with the key. */
export function objectUrl(store: SnapshotStore, key: string): string {
  return `${store.location.replace(/\/+$/, '')}/${key}`;
}
