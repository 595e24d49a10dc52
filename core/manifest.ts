import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SnapshotIntegrityError } from './errors.js';

/**
 * manifest.json: the contract between export and import (see DESIGN.md, "Snapshot layout").
 * Import validates it with this schema before touching any database.
 */
export const MANIFEST_FORMAT_VERSION = 1;

const fileEntry = z.object({
  key: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const dataFileEntry = fileEntry.extend({ rows: z.number().int().nonnegative() });

const qualified = z.object({ schema: z.string(), name: z.string() });

/** What the export did to a column's values, and what the classifier thought of them. */
const columnTreatment = z.object({
  /** `anonymised` by a rule, `kept` on purpose (with a reason), or `exported` as it is (no rule). */
  action: z.enum(['anonymised', 'kept', 'exported']),
  /** The rule, e.g. `fake(internet.email)`. */
  rule: z.string().optional(),
  /** Which part of the config chose it: a `table.column` rule, a name rule, a pattern, or the key a foreign key follows. */
  via: z.enum(['column', 'name', 'pattern', 'foreign-key']).optional(),
  /** The config key, pattern or foreign key name. */
  matched: z.string().optional(),
  /** Why a kept column is kept. */
  reason: z.string().optional(),
  /** The classifier's verdict and its value-free reasons. */
  personal: z.boolean(),
  classifier: z.array(z.string()),
});

const manifestColumn = z.object({
  name: z.string(),
  /** Declared PostgreSQL type (format_type). */
  pgType: z.string(),
  /** Storage type after resolving domains (pg_type.typname). */
  baseType: z.string(),
  isArray: z.boolean(),
  /** Arrow type of the Parquet column. */
  arrowType: z.string(),
  nullable: z.boolean(),
  /** Has a default or is an identity column: an import that generates rows may leave it out. */
  hasDefault: z.boolean().default(false),
  /** Absent in snapshots written before anonymisation existed. */
  treatment: columnTreatment.optional(),
});

const manifestForeignKey = z.object({
  name: z.string(),
  columns: z.array(z.string()),
  referencedTable: z.object({ schema: z.string(), name: z.string() }),
  referencedColumns: z.array(z.string()),
});

const manifestTable = qualified.extend({
  kind: z.enum(['table', 'partitioned']),
  /** Leaf partitions whose rows are in this table's files (exported through the root). */
  partitions: z.array(z.string()),
  columns: z.array(manifestColumn),
  /** Generated columns: not exported, recomputed by the import. */
  generatedColumns: z.array(z.string()),
  /** Foreign keys of the table (those declared on its partitions included), for import-time factories. */
  foreignKeys: z.array(manifestForeignKey).default([]),
  rows: z.number().int().nonnegative(),
  files: z.array(dataFileEntry),
  strategies: z.array(z.object({ name: z.string(), rows: z.number().int().nonnegative() })),
  /** What each of the table's foreign keys did to the subset (absent in snapshots before subsetting). */
  policies: z
    .array(
      z.object({
        foreignKey: z.string(),
        references: z.string(),
        policy: z.enum(['restrict', 'include-parents', 'nullify']),
        /** Rows of this table dropped because the parent row was not exported. */
        dropped: z.number().int().nonnegative(),
        /** Rows of this table whose key was set to NULL. */
        nulled: z.number().int().nonnegative(),
        /** Parent rows this key pulled in (include-parents). */
        included: z.number().int().nonnegative(),
      }),
    )
    .default([]),
  durationMs: z.number().nonnegative(),
});

const columnRef = qualified.extend({ column: z.string() });

const manifestSequence = qualified.extend({
  start: z.string(),
  increment: z.string(),
  ownedBy: columnRef.nullable(),
  /** Integer columns it numbers (its owner and columns whose default calls it): import moves it past their max. */
  feeds: z.array(columnRef),
  /** null: never called on the source. */
  lastValue: z.string().nullable(),
});

export const manifestSchema = z.object({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  snapshotId: z.string(),
  createdAt: z.string(),
  tool: z.object({ name: z.literal('devsnap'), version: z.string() }),
  source: z.object({ engine: z.literal('postgresql'), serverVersion: z.string() }),
  configHash: z.string().nullable(),
  schema: z.object({
    preData: fileEntry,
    postData: fileEntry,
    /** Drops what pre- and post-data create (the drop-tables reset mode). */
    drop: fileEntry,
    enums: z.array(qualified),
    domains: z.array(qualified),
    /** Objects seen on the source and not recreated by this snapshot. */
    uncaptured: z.array(
      z.object({
        kind: z.string(),
        schema: z.string().nullable(),
        name: z.string(),
        table: z.string().optional(),
      }),
    ),
  }),
  tables: z.array(manifestTable),
  /** How the snapshot was anonymised; absent in snapshots written before anonymisation existed. */
  anonymisation: z
    .object({
      mode: z.enum(['strict', 'warn']),
      /** Where the secret came from (never the secret): config, env, secrets-manager or none. */
      secret: z.enum(['config', 'env', 'secrets-manager', 'none']),
      anonymisedColumns: z.number().int().nonnegative(),
      keptColumns: z.number().int().nonnegative(),
      /** `schema.table.column` of columns that looked personal and were exported without a rule (warn mode only). */
      unresolved: z.array(z.string()),
    })
    .optional(),
  sequences: z.array(manifestSequence),
  totals: z.object({ rows: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }),
  timings: z.object({ startedAt: z.string(), finishedAt: z.string(), durationMs: z.number().nonnegative() }),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestTable = Manifest['tables'][number];
export type ManifestColumn = ManifestTable['columns'][number];
export type ManifestFile = Manifest['schema']['preData'];

/** Every file a manifest names: the schema scripts, then each table's data files. */
export function snapshotFiles(manifest: Manifest): ManifestFile[] {
  const { preData, postData, drop } = manifest.schema;
  return [preData, postData, drop, ...manifest.tables.flatMap((table) => table.files)];
}
export type ManifestColumnTreatment = z.infer<typeof columnTreatment>;
export type ManifestAnonymisation = NonNullable<Manifest['anonymisation']>;

/** latest.json: which snapshot `latest` means, and the manifest's checksum. */
export const latestPointerSchema = z.object({
  snapshotId: z.string(),
  manifestKey: z.string(),
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
});
export type LatestPointer = z.infer<typeof latestPointerSchema>;

export const LATEST_KEY = 'latest.json';
export const snapshotPrefix = (snapshotId: string): string => `snapshots/${snapshotId}/`;
export const manifestKey = (snapshotId: string): string => `${snapshotPrefix(snapshotId)}manifest.json`;

/** Parses and validates manifest text; every problem is listed in one error. */
export function parseManifest(text: string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SnapshotIntegrityError(`${where} is not valid JSON (truncated or corrupt).`, {
      cause: error,
      hint: 'Export a new snapshot, or import another one (devsnap list).',
    });
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new SnapshotIntegrityError(
      `${where} is not a valid devsnap manifest:\n  ${problems.join('\n  ')}`,
      {
        hint: 'Export a new snapshot, or import another one (devsnap list).',
      },
    );
  }
  return result.data;
}

/** Time-sortable id: UTC timestamp plus a short random suffix, e.g. 20261121T141139Z-3f9a1c. */
export function newSnapshotId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
