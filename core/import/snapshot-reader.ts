import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { SnapshotIntegrityError, StoreError, UsageError } from '../errors.js';
import {
  LATEST_KEY,
  type LatestPointer,
  latestPointerSchema,
  type Manifest,
  type ManifestFile,
  manifestKey,
  parseManifest,
  snapshotFiles,
} from '../manifest.js';
import type { ProgressReporter } from '../progress.js';
import { cacheSnapshot } from '../pull/pull-snapshot.js';
import { fileSha256, fileSize, textSha256 } from '../store/file-digest.js';
import { objectUrl, type SnapshotStore } from '../store/snapshot-store.js';
import { checkSeal, type SealCheck } from '../trust/check-seal.js';
import { sealKey } from '../trust/snapshot-seal.js';
import { NO_TRUSTED_KEYS, type TrustPolicy } from '../trust/trusted-keys.js';
import type { SchemaScripts } from './reset-mode.js';
import type { SchemaScriptName } from './schema-script.js';

/** A snapshot whose every file has been checked against its manifest and can be read locally. */
export interface VerifiedSnapshot {
  readonly manifest: Manifest;
  /** The schema scripts, read once, checked against the manifest's sha256, parsed and allowed. */
  readonly schema: SchemaScripts;
  /** Local path of a file named in the manifest. */
  path(key: string): string;
}

export interface VerifyOptions {
  /** Where a snapshot from a remote store is pulled to. */
  readonly cacheDirectory?: string;
  /**
   * Let the schema create functions devsnap cannot check (EXECUTE, SECURITY DEFINER) although no
   * trusted key signed the snapshot; a signed and verified snapshot may carry them anyway.
   */
  readonly allowUncheckedFunctions?: boolean;
}

export async function readLatestPointer(store: SnapshotStore): Promise<LatestPointer | null> {
  const text = await store.readText(LATEST_KEY);
  if (text === null) return null;
  try {
    return latestPointerSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new SnapshotIntegrityError(`${objectUrl(store, LATEST_KEY)} is corrupt.`, {
      cause: error,
      hint: 'Import a snapshot by id (devsnap list shows them), or export a new one.',
    });
  }
}

/** A manifest as read from a store: parsed, its exact text and its seal (for caching and checksums). */
export interface StoredManifest {
  readonly manifest: Manifest;
  readonly text: string;
  readonly sealText: string;
  /** Whether a trusted key signed it (checked before this was returned). */
  readonly seal: SealCheck;
}

/**
 * Resolves `latest` or an id (a unique prefix is enough) and reads its manifest, checked against
 * its seal and, when `trust` names keys, against their signatures.
 */
export async function readManifest(
  store: SnapshotStore,
  snapshot: string,
  trust: TrustPolicy = NO_TRUSTED_KEYS,
): Promise<StoredManifest> {
  const pointer = await readLatestPointer(store);
  if (snapshot !== 'latest')
    return readManifestById(store, await resolveSnapshotId(store, snapshot), pointer, trust);
  if (!pointer) {
    throw new StoreError(`There is no snapshot in ${store.location}.`, {
      hint: 'Run `devsnap export` first, or point --store at the directory that holds your snapshots.',
    });
  }
  return readManifestById(store, pointer.snapshotId, pointer, trust);
}

/** Reads the manifest of an exact snapshot id; checks it against its seal, and `pointer` when that names it. */
export async function readManifestById(
  store: SnapshotStore,
  snapshotId: string,
  pointer: LatestPointer | null,
  trust: TrustPolicy = NO_TRUSTED_KEYS,
): Promise<StoredManifest> {
  const key = manifestKey(snapshotId);
  const text = await store.readText(key);
  if (text === null) {
    throw new StoreError(`Snapshot ${snapshotId} has no manifest in ${store.location}; it is incomplete.`, {
      hint: 'Run `devsnap list` to see complete snapshots.',
    });
  }
  if (pointer?.snapshotId === snapshotId && textSha256(text) !== pointer.manifestSha256) {
    throw new SnapshotIntegrityError(
      `The manifest of snapshot ${snapshotId} does not match the checksum recorded in ${LATEST_KEY} (it was changed or truncated).`,
      { hint: 'Export a new snapshot; do not edit snapshot files by hand.' },
    );
  }
  const sealText = await store.readText(sealKey(snapshotId));
  const seal = checkSeal({ sealText, manifestText: text, snapshotId, trust });
  return {
    manifest: parseManifest(text, objectUrl(store, key), snapshotId),
    text,
    sealText: sealText ?? '',
    seal,
  };
}

export async function listSnapshotIds(store: SnapshotStore): Promise<string[]> {
  const keys = await store.list('snapshots/');
  return keys
    .filter((key) => key.endsWith('/manifest.json'))
    .map((key) => key.slice('snapshots/'.length, -'/manifest.json'.length))
    .sort();
}

async function resolveSnapshotId(store: SnapshotStore, wanted: string): Promise<string> {
  if (!/^[0-9A-Za-z-]+$/.test(wanted)) {
    throw new UsageError(`${JSON.stringify(wanted)} is not a snapshot id.`, {
      hint: 'Pass `latest` or an id from `devsnap list`.',
    });
  }
  const ids = await listSnapshotIds(store);
  const matches = ids.filter((id) => id.startsWith(wanted));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new UsageError(`Snapshot id ${wanted} is ambiguous: ${matches.join(', ')}.`, {
      hint: 'Give more characters of the id.',
    });
  }
  throw new StoreError(`There is no snapshot ${wanted} in ${store.location}.`, {
    hint: ids.length
      ? `Available: ${ids.slice(-5).join(', ')} (devsnap list).`
      : 'Run `devsnap export` first.',
  });
}

/**
 * Checks size and sha256 of every file in the manifest before any database is touched, so a
 * truncated or tampered snapshot is refused up front.
 */
export async function verifySnapshot(
  store: SnapshotStore,
  stored: StoredManifest,
  reporter: ProgressReporter,
  options: VerifyOptions = {},
): Promise<VerifiedSnapshot> {
  const { manifest } = stored;
  const { cacheDirectory } = options;
  const files = snapshotFiles(manifest);
  const paths = new Map<string, string>();
  if (files.some((file) => store.localPath(file.key) === undefined)) {
    // A remote store (S3): pull into the local cache, which checks each file as it arrives.
    const { cache } = await cacheSnapshot(store, stored, { reporter, cacheDirectory });
    for (const file of files) paths.set(file.key, cache.localPath(file.key));
  } else {
    reporter.report({ type: 'phase', phase: 'verify', detail: `${files.length} files` });
    for (const file of files) {
      const path = store.localPath(file.key)!;
      await verifyFile(path, file);
      paths.set(file.key, path);
    }
  }
  // Loaded here, not at start-up: `devsnap list` reads manifests and needs no SQL parser.
  const { parseSchemaScript, refuseUnchecked } = await import('./schema-script.js');
  const script = async (file: ManifestFile, name: SchemaScriptName) =>
    parseSchemaScript(await readVerified(paths.get(file.key)!, file), name, { allowUnchecked: true });
  const schema: SchemaScripts = {
    preData: await script(manifest.schema.preData, 'pre-data.sql'),
    postData: await script(manifest.schema.postData, 'post-data.sql'),
    drop: await script(manifest.schema.drop, 'drop.sql'),
  };
  // What cannot be checked runs only from a snapshot a trusted key signed, or when the user says so.
  if (stored.seal.signature !== 'verified' && !options.allowUncheckedFunctions) {
    refuseUnchecked([schema.preData, schema.postData, schema.drop]);
  }
  return {
    manifest,
    schema,
    path(key) {
      const path = paths.get(key);
      if (path === undefined) throw new Error(`BUG: ${key} is not a verified file of the snapshot`);
      return path;
    },
  };
}

/** A schema file's text, checked again as read: what is parsed and run is exactly what was hashed. */
async function readVerified(path: string, file: ManifestFile): Promise<string> {
  const bytes = await readFile(path);
  if (bytes.length !== file.bytes || createHash('sha256').update(bytes).digest('hex') !== file.sha256) {
    throw new SnapshotIntegrityError(`Snapshot file ${path} changed while it was being read.`, {
      hint: 'Run the command again; if it keeps happening, something else is writing to the snapshot.',
    });
  }
  return bytes.toString('utf8');
}

async function verifyFile(path: string, file: ManifestFile): Promise<void> {
  if ((await lstat(path).catch(() => null))?.isSymbolicLink()) {
    throw new SnapshotIntegrityError(
      `Snapshot file ${path} is a symbolic link; a snapshot's files are plain files.`,
      {
        hint: 'Export a new snapshot or import another one (devsnap list).',
      },
    );
  }
  const size = await fileSize(path);
  if (size < 0) {
    throw new SnapshotIntegrityError(`Snapshot file ${path} is missing.`, {
      hint: 'The snapshot is incomplete: export a new one or import another (devsnap list).',
    });
  }
  if (size !== file.bytes) {
    throw new SnapshotIntegrityError(
      `Snapshot file ${path} has ${size} bytes but the manifest records ${file.bytes} (truncated or replaced).`,
      { hint: 'Export a new snapshot or import another one (devsnap list).' },
    );
  }
  if ((await fileSha256(path)) !== file.sha256) {
    throw new SnapshotIntegrityError(
      `Snapshot file ${path} does not match the sha256 in the manifest (corrupt or tampered).`,
      { hint: 'Export a new snapshot or import another one (devsnap list).' },
    );
  }
}
