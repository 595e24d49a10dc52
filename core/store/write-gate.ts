import { DevsnapError } from '../errors.js';
import type { SnapshotStore } from './snapshot-store.js';

/** The writes a store may offer: `put`, and `putIfVersion` for stores with conditional writes. */
const WRITES = new Set<PropertyKey>(['put', 'putIfVersion']);

/**
 * The same store, whose writes are refused once `close()` is called. An interrupted export closes
 * it before removing its snapshot folder, so that work still in flight (a Parquet part finishing,
 * the next table starting) cannot write a file into the folder again after it is gone.
 */
export function writeGate<S extends SnapshotStore>(store: S): { readonly store: S; close(): void } {
  let closed = false;
  const gated = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!WRITES.has(property)) return value.bind(target);
      return (...args: unknown[]) => {
        if (closed)
          return Promise.reject(new DevsnapError('The export was interrupted; nothing more is written.'));
        return value.apply(target, args);
      };
    },
  });
  return {
    store: gated,
    close: () => {
      closed = true;
    },
  };
}
