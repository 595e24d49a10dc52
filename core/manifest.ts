import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DETECTOR_NAMES } from './anonymise/detectors/detector-names.js';
import { SnapshotIntegrityError } from './errors.js';
import {
  count,
  identifier,
  int64Text,
  isoTime,
  manifestText,
  printable,
  sha256Hex,
  snapshotId,
} from './manifest-fields.js';

/**
 * manifest.json: the contract between export and import (see DESIGN.md, "Snapshot layout").
 * Import validates it with this schema before touching any database.
 */
export const MANIFEST_FORMAT_VERSION = 1;

const fileEntry = z.strictObject({
  /** Checked against the snapshot's own folder by manifestSchema (see snapshotKeyProblems). */
  key: z.string().min(1).max(1024),
  bytes: count,
  sha256: sha256Hex,
});

const dataFileEntry = fileEntry.extend({ rows: count });

const qualified = z.strictObject({ schema: identifier, name: identifier });

/** What the export did to a column's values, and what the classifier thought of them. */
const columnTreatment = z.strictObject({
  /** `anonymised` by a rule, `kept` on purpose (with a reason), or `exported` as it is (no rule). */
  action: z.enum(['anonymised', 'kept', 'exported']),
  /** The rule, e.g. `fake(internet.email)`. */
  rule: manifestText.optional(),
  /** Which part of the config chose it: a `table.column` rule, a name rule, a pattern, or the key a foreign key follows. */
  via: z.enum(['column', 'name', 'pattern', 'foreign-key']).optional(),
  /** The config key, pattern or foreign key name. */
  matched: manifestText.optional(),
  /** Why a kept column is kept. */
  reason: manifestText.optional(),
  /** Detectors whose finds the rule lets this column publish (`keep(reason, { allow })`). */
  allow: z.array(z.enum(DETECTOR_NAMES)).optional(),
  /**
   * Export-time verification: how many written values were checked, and in how many each
   * detector found something (0 everywhere in a strict snapshot but for allowed detectors).
   */
  verified: z
    .strictObject({
      values: count,
      hits: z.partialRecord(z.enum(DETECTOR_NAMES), count),
    })
    .optional(),
  /** The classifier's verdict and its value-free reasons. */
  personal: z.boolean(),
  classifier: z.array(manifestText),
});

const manifestColumn = z.strictObject({
  name: identifier,
  /** Declared PostgreSQL type (format_type); shown to people, never put into SQL. */
  pgType: manifestText,
  /** Storage type after resolving domains (pg_type.typname). */
  baseType: identifier,
  isArray: z.boolean(),
  /** Arrow type of the Parquet column. */
  arrowType: manifestText,
  nullable: z.boolean(),
  /** Has a default or is an identity column: an import that generates rows may leave it out. */
  hasDefault: z.boolean().default(false),
  /** Absent in snapshots written before anonymisation existed. */
  treatment: columnTreatment.optional(),
});

const manifestForeignKey = z.strictObject({
  name: identifier,
  columns: z.array(identifier).min(1),
  referencedTable: qualified,
  referencedColumns: z.array(identifier).min(1),
});

const manifestTable = qualified.extend({
  kind: z.enum(['table', 'partitioned']),
  /** Leaf partitions (`schema.table`) whose rows are in this table's files (exported through the root). */
  partitions: z.array(manifestText),
  columns: z.array(manifestColumn),
  /** Generated columns: not exported, recomputed by the import. */
  generatedColumns: z.array(identifier),
  /** Foreign keys of the table (those declared on its partitions included), for import-time factories. */
  foreignKeys: z.array(manifestForeignKey).default([]),
  rows: count,
  files: z.array(dataFileEntry),
  strategies: z.array(z.strictObject({ name: manifestText, rows: count })),
  /** What each of the table's foreign keys did to the subset (absent in snapshots before subsetting). */
  policies: z
    .array(
      z.strictObject({
        foreignKey: manifestText,
        references: manifestText,
        policy: z.enum(['restrict', 'include-parents', 'nullify']),
        /** Rows of this table dropped because the parent row was not exported. */
        dropped: count,
        /** Rows of this table whose key was set to NULL. */
        nulled: count,
        /** Parent rows this key pulled in (include-parents). */
        included: count,
      }),
    )
    .default([]),
  durationMs: z.number().nonnegative(),
});

const columnRef = qualified.extend({ column: identifier });

/**
 * A key the database does not declare (configured, or detected: Django, Rails), one per parent:
 * the import checks that every child row's key finds its parent row, as constraints do for
 * declared keys. Names reach SQL only as quoted identifiers, values only as parameters.
 */
const manifestRelation = z.strictObject({
  name: manifestText,
  origin: z.enum(['config', 'django', 'rails']),
  child: qualified,
  parent: qualified,
  /** One per referenced column, in order. */
  parts: z
    .array(
      z.strictObject({
        column: identifier,
        path: z.array(z.union([manifestText, z.number().int().nonnegative()])).max(16),
        cast: z.literal('integer').nullable(),
        referencedColumn: identifier,
      }),
    )
    .min(1)
    .max(32),
  /** Rows whose discriminator holds one of these values point at this parent. */
  when: z.strictObject({ column: identifier, values: z.array(manifestText).min(1) }).nullable(),
});

const manifestSequence = qualified.extend({
  /** Integers in text: import passes them to setval as parameters. */
  start: int64Text,
  increment: int64Text,
  ownedBy: columnRef.nullable(),
  /** Integer columns it numbers (its owner and columns whose default calls it): import moves it past their max. */
  feeds: z.array(columnRef),
  /** null: never called on the source. */
  lastValue: int64Text.nullable(),
});

const manifestFields = z.strictObject({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  snapshotId,
  createdAt: isoTime,
  tool: z.strictObject({ name: z.literal('devsnap'), version: manifestText }),
  source: z.strictObject({
    engine: z.literal('postgresql'),
    serverVersion: manifestText,
    /**
     * The source database's name and its server's system identifier (pg_control_system), when
     * readable: an import refuses to replace the database a snapshot came from.
     */
    database: manifestText.optional(),
    systemIdentifier: z
      .string()
      .regex(/^[0-9]{1,20}$/, 'not a system identifier')
      .optional(),
  }),
  configHash: manifestText.nullable(),
  schema: z.strictObject({
    preData: fileEntry,
    postData: fileEntry,
    /** Drops what pre- and post-data create (the drop-tables reset mode). */
    drop: fileEntry,
    enums: z.array(qualified),
    domains: z.array(qualified),
    /** Objects seen on the source and not recreated by this snapshot. */
    uncaptured: z.array(
      z.strictObject({
        kind: manifestText,
        schema: manifestText.nullable(),
        name: manifestText,
        table: manifestText.optional(),
        /** What an `other` object is, or why an expression was left out of the DDL. */
        detail: manifestText.optional(),
      }),
    ),
  }),
  tables: z.array(manifestTable),
  /** Virtual relations the import checks (absent in snapshots written before they existed). */
  relations: z.array(manifestRelation).optional(),
  /** How the snapshot was anonymised; absent in snapshots written before anonymisation existed. */
  anonymisation: z
    .strictObject({
      mode: z.enum(['strict', 'warn']),
      /** Where the secret came from (never the secret): config, env, secrets-manager or none. */
      secret: z.enum(['config', 'env', 'secrets-manager', 'none']),
      anonymisedColumns: count,
      keptColumns: count,
      /** `schema.table.column` of columns that looked personal and were exported without a rule (warn mode only). */
      unresolved: z.array(manifestText),
      /** `every-value`: each value written as it was read was checked by the detectors; `off`: none was. */
      verification: z.enum(['every-value', 'off']).optional(),
      /** Settings that weakened the guarantee (`mode: warn`, `sample: false`, `verify: false`), with the config's reason. */
      relaxations: z
        .array(
          z.strictObject({
            setting: z.enum(['mode: warn', 'sample: false', 'verify: false']),
            effect: manifestText,
            reason: manifestText.nullable(),
          }),
        )
        .optional(),
    })
    .optional(),
  sequences: z.array(manifestSequence),
  totals: z.strictObject({ rows: count, bytes: count }),
  timings: z.strictObject({ startedAt: isoTime, finishedAt: isoTime, durationMs: z.number().nonnegative() }),
});

/**
 * Strict: an unknown field anywhere is refused (a snapshot carries nothing import does not know
 * what to do with), and every file key must lie inside the snapshot's own folder.
 */
export const manifestSchema = manifestFields.superRefine((manifest, context) => {
  for (const problem of snapshotKeyProblems(manifest)) {
    context.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  }
  const names = new Set<string>();
  manifest.tables.forEach((table, index) => {
    const name = `${table.schema}.${table.name}`;
    if (names.has(JSON.stringify([table.schema, table.name]))) {
      context.addIssue({ code: 'custom', path: ['tables', index], message: `${name} is listed twice` });
    }
    names.add(JSON.stringify([table.schema, table.name]));
    const columns = new Set(table.columns.map((column) => column.name));
    if (columns.size !== table.columns.length) {
      context.addIssue({
        code: 'custom',
        path: ['tables', index, 'columns'],
        message: 'a column is listed twice',
      });
    }
    const fileRows = table.files.reduce((sum, file) => sum + file.rows, 0);
    if (fileRows !== table.rows) {
      context.addIssue({
        code: 'custom',
        path: ['tables', index, 'rows'],
        message: `${table.rows} rows, but its files hold ${fileRows}`,
      });
    }
  });

  // A relation may name only tables and columns the snapshot has.
  const columnsOf = new Map(
    manifest.tables.map((table) => [
      JSON.stringify([table.schema, table.name]),
      new Set(table.columns.map((column) => column.name)),
    ]),
  );
  (manifest.relations ?? []).forEach((relation, index) => {
    const child = columnsOf.get(JSON.stringify([relation.child.schema, relation.child.name]));
    const parent = columnsOf.get(JSON.stringify([relation.parent.schema, relation.parent.name]));
    const known =
      child &&
      parent &&
      relation.parts.every((part) => child.has(part.column) && parent.has(part.referencedColumn)) &&
      (relation.when === null || child.has(relation.when.column));
    if (!known) {
      context.addIssue({
        code: 'custom',
        path: ['relations', index],
        message: 'names a table or column the snapshot does not have',
      });
    }
  });
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
export const latestPointerSchema = z
  .strictObject({
    snapshotId,
    manifestKey: z.string(),
    manifestSha256: sha256Hex,
    createdAt: isoTime,
  })
  .refine((pointer) => pointer.manifestKey === manifestKey(pointer.snapshotId), {
    message: 'manifestKey is not the manifest of snapshotId',
    path: ['manifestKey'],
  });
export type LatestPointer = z.infer<typeof latestPointerSchema>;

export const LATEST_KEY = 'latest.json';
export const snapshotPrefix = (snapshotId: string): string => `snapshots/${snapshotId}/`;
export const manifestKey = (snapshotId: string): string => `${snapshotPrefix(snapshotId)}manifest.json`;
export const schemaFileKey = (snapshotId: string, file: 'pre-data' | 'post-data' | 'drop'): string =>
  `${snapshotPrefix(snapshotId)}schema/${file}.sql`;

/**
 * The folder of a table's data files: schema and name percent-encoded (dots and stars too), so any
 * PostgreSQL name gives one path segment that cannot climb out of `data/`.
 */
export function tableDataDirectory(table: { readonly schema: string; readonly name: string }): string {
  const encode = (part: string) => encodeURIComponent(part).replaceAll('.', '%2E').replaceAll('*', '%2A');
  return `${encode(table.schema)}.${encode(table.name)}`;
}

/** Where a manifest's files may be: its schema scripts and its tables' parts, nowhere else. */
function snapshotKeyProblems(
  manifest: z.infer<typeof manifestFields>,
): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const id = manifest.snapshotId;
  const seen = new Set<string>();
  const check = (key: string, inside: boolean, path: PropertyKey[]) => {
    if (!inside) problems.push({ path, message: `${JSON.stringify(key)} is not a file of snapshot ${id}` });
    else if (seen.has(key)) problems.push({ path, message: `${JSON.stringify(key)} is listed twice` });
    seen.add(key);
  };
  for (const file of ['preData', 'postData', 'drop'] as const) {
    const name = ({ preData: 'pre-data', postData: 'post-data', drop: 'drop' } as const)[file];
    const { key } = manifest.schema[file];
    check(key, key === schemaFileKey(id, name), ['schema', file, 'key']);
  }
  manifest.tables.forEach((table, t) => {
    const folder = `${snapshotPrefix(id)}data/${tableDataDirectory(table)}/`;
    table.files.forEach((file, f) => {
      const part = file.key.startsWith(folder) ? file.key.slice(folder.length) : '';
      check(file.key, /^part-[0-9]{5}\.parquet$/.test(part), ['tables', t, 'files', f, 'key']);
    });
  });
  return problems;
}

/** A manifest this large is not one devsnap wrote (thousands of tables take a few MB). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/**
 * Parses and validates manifest text; every problem is listed in one error. `snapshotId` is the
 * folder it was read from: a manifest must describe the snapshot it sits in.
 */
export function parseManifest(text: string, where: string, expectedSnapshotId?: string): Manifest {
  const hint = 'Export a new snapshot, or import another one (devsnap list).';
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    throw new SnapshotIntegrityError(
      `${where} is larger than ${MAX_MANIFEST_BYTES} bytes; not a devsnap manifest.`,
      {
        hint,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SnapshotIntegrityError(`${where} is not valid JSON (truncated or corrupt).`, {
      cause: error,
      hint,
    });
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    const shown = problems.slice(0, 20).map(printable);
    if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
    throw new SnapshotIntegrityError(`${where} is not a valid devsnap manifest:\n  ${shown.join('\n  ')}`, {
      hint,
    });
  }
  if (expectedSnapshotId !== undefined && result.data.snapshotId !== expectedSnapshotId) {
    throw new SnapshotIntegrityError(
      `${where} describes snapshot ${result.data.snapshotId}, not ${expectedSnapshotId} (moved or replaced).`,
      { hint },
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
