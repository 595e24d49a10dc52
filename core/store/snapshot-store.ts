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
