import { errorMessage, StoreError } from '../errors.js';
import { LATEST_KEY, type LatestPointer, latestPointerSchema } from '../manifest.js';
import { type ProgressReporter, silentReporter } from '../progress.js';
import { hasConditionalWrites, objectUrl, type SnapshotStore } from './snapshot-store.js';

export interface PublishResult {
  /** false when a newer snapshot was already `latest`: the pointer is left on it. */
  readonly moved: boolean;
  /** What latest.json points at afterwards. */
  readonly latest: LatestPointer;
}

/**
 * Moves latest.json to a finished snapshot, last step of an export. On a store with conditional
 * writes (S3) it is a compare-and-swap: read the pointer and its version, write only if nobody
 * changed it since, retry otherwise. Two exports that finish together therefore never interleave,
 * and `latest` never moves back to a snapshot older than the one it already names (an export that
 * started earlier but finished later leaves the newer one in place).
 */
export async function publishLatest(
  store: SnapshotStore,
  pointer: LatestPointer,
  reporter: ProgressReporter = silentReporter,
): Promise<PublishResult> {
  const body = `${JSON.stringify(pointer, null, 2)}\n`;
  if (!hasConditionalWrites(store)) {
    await store.put(LATEST_KEY, body);
    return { moved: true, latest: pointer };
  }
  const attempts = 8;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const current = await store.readVersioned(LATEST_KEY);
    const currentPointer = current ? parsePointer(current.text, store, reporter) : null;
    if (currentPointer && isNewer(currentPointer, pointer)) {
      reporter.report({
        type: 'notice',
        message: `latest stays on ${currentPointer.snapshotId}, which is newer than ${pointer.snapshotId}.`,
      });
      return { moved: false, latest: currentPointer };
    }
    if (await store.putIfVersion(LATEST_KEY, body, current?.version ?? null)) {
      return { moved: true, latest: pointer };
    }
    // Someone else wrote latest.json between our read and our write: look again.
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 50));
  }
  throw new StoreError(
    `Could not publish snapshot ${pointer.snapshotId}: ${objectUrl(store, LATEST_KEY)} changed ${attempts} times while it was being written.`,
    {
      hint: `The snapshot itself is complete; import it by id (devsnap import --snapshot ${pointer.snapshotId}).`,
    },
  );
}

function isNewer(a: LatestPointer, b: LatestPointer): boolean {
  if (a.snapshotId === b.snapshotId) return false;
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.snapshotId > b.snapshotId);
}

/** A corrupt pointer is replaced (still conditionally) rather than blocking every later export. */
function parsePointer(text: string, store: SnapshotStore, reporter: ProgressReporter): LatestPointer | null {
  try {
    return latestPointerSchema.parse(JSON.parse(text));
  } catch (error) {
    reporter.report({
      type: 'notice',
      message: `${objectUrl(store, LATEST_KEY)} was corrupt and is replaced: ${errorMessage(error).slice(0, 200)}`,
    });
    return null;
  }
}
