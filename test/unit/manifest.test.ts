import { describe, expect, it } from 'vitest';
import { SnapshotIntegrityError } from '../../core/errors.js';
import { latestPointerSchema, type Manifest, newSnapshotId, parseManifest } from '../../core/manifest.js';

const ID = '20260102T030405Z-0a1b2c';
const SHA = 'a'.repeat(64);

/** A small manifest as an export writes it: one table, one part, one sequence. */
function validManifest(): Manifest {
  const file = (key: string) => ({ key: `snapshots/${ID}/${key}`, bytes: 10, sha256: SHA });
  return {
    formatVersion: 1,
    snapshotId: ID,
    createdAt: '2026-01-02T03:04:05.678Z',
    tool: { name: 'devsnap', version: '0.1.0' },
    source: { engine: 'postgresql', serverVersion: '15.18' },
    configHash: null,
    schema: {
      preData: file('schema/pre-data.sql'),
      postData: file('schema/post-data.sql'),
      drop: file('schema/drop.sql'),
      enums: [],
      domains: [],
      uncaptured: [{ kind: 'other', schema: 'public', name: 'x', detail: 'why it was left out' }],
    },
    tables: [
      {
        schema: 'public',
        name: 'Odd.Name',
        kind: 'table',
        partitions: [],
        columns: [
          {
            name: 'id',
            pgType: 'integer',
            baseType: 'int4',
            isArray: false,
            arrowType: 'int32',
            nullable: false,
            hasDefault: true,
          },
        ],
        generatedColumns: [],
        foreignKeys: [],
        rows: 3,
        files: [{ ...file('data/public.Odd%2EName/part-00000.parquet'), rows: 3 }],
        strategies: [{ name: 'allRows', rows: 3 }],
        policies: [],
        durationMs: 1,
      },
    ],
    sequences: [
      {
        schema: 'public',
        name: 'odd_id_seq',
        start: '1',
        increment: '1',
        ownedBy: { schema: 'public', name: 'Odd.Name', column: 'id' },
        feeds: [{ schema: 'public', name: 'Odd.Name', column: 'id' }],
        lastValue: '-9223372036854775808',
      },
    ],
    totals: { rows: 3, bytes: 40 },
    timings: { startedAt: '2026-01-02T03:04:05.678Z', finishedAt: '2026-01-02T03:04:06Z', durationMs: 322 },
  };
}

/** Parsed JSON, edited freely by the tests into shapes its type does not allow. */
// biome-ignore lint/suspicious/noExplicitAny: the point of these edits is to break the type.
type EditableJson = any;

/** The one error parseManifest throws for this (edited) manifest. */
function problemsOf(edit: (manifest: EditableJson) => void, expectedId = ID): string {
  const manifest: EditableJson = validManifest();
  edit(manifest);
  try {
    parseManifest(JSON.stringify(manifest), 'm.json', expectedId);
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotIntegrityError);
    return (error as Error).message;
  }
  throw new Error('expected the manifest to be refused');
}

describe('manifest', () => {
  it('makes snapshot ids that sort by time', () => {
    const earlier = newSnapshotId(new Date('2026-01-02T03:04:05.678Z'));
    const later = newSnapshotId(new Date('2026-01-02T03:04:06.000Z'));
    expect(earlier).toMatch(/^20260102T030405Z-[0-9a-f]{6}$/);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it('names the manifest when it is not JSON', () => {
    expect(() => parseManifest('{"formatVersion": 1, "tabl', 'store/m.json')).toThrow(SnapshotIntegrityError);
    expect(() => parseManifest('{"formatVersion": 1, "tabl', 'store/m.json')).toThrow(
      /store\/m\.json is not valid JSON/,
    );
  });

  it('lists every problem of an invalid manifest at once', () => {
    const message = problemsOf((m) => {
      m.tables = 'nope';
      delete m.createdAt;
      delete m.schema;
    });
    expect(message).toMatch(/m\.json is not a valid devsnap manifest/);
    expect(message).toMatch(/tables:/);
    expect(message).toMatch(/createdAt:/);
    expect(message).toMatch(/schema:/);
  });

  it('accepts what an export writes, names with dots and the whole bigint range included', () => {
    const manifest = parseManifest(JSON.stringify(validManifest()), 'm.json', ID);
    expect(manifest.tables[0]?.files[0]?.key).toBe(
      `snapshots/${ID}/data/public.Odd%2EName/part-00000.parquet`,
    );
    expect(manifest.sequences[0]?.lastValue).toBe('-9223372036854775808');
  });

  it('accepts virtual relations over its own tables, and refuses one naming anything else', () => {
    const relation = {
      name: 'public.Odd.Name.id',
      origin: 'django',
      child: { schema: 'public', name: 'Odd.Name' },
      parent: { schema: 'public', name: 'Odd.Name' },
      parts: [{ column: 'id', path: [], cast: null, referencedColumn: 'id' }],
      when: { column: 'id', values: ['7'] },
    };
    const manifest = validManifest() as EditableJson;
    manifest.relations = [relation];
    expect(parseManifest(JSON.stringify(manifest), 'm.json', ID).relations).toEqual([relation]);
    expect(
      problemsOf((m) => {
        m.relations = [{ ...relation, parent: { schema: 'public', name: 'pg_authid' } }];
      }),
    ).toMatch(/relations\.0: names a table or column the snapshot does not have/);
    expect(
      problemsOf((m) => {
        m.relations = [
          { ...relation, parts: [{ ...relation.parts[0], column: 'id" = 1; DROP TABLE x; --' }] },
        ];
      }),
    ).toMatch(/relations\.0/);
  });

  it('refuses an unknown field anywhere: top level, table, column, file, sequence', () => {
    expect(problemsOf((m) => (m.postImport = 'COPY x TO PROGRAM'))).toMatch(
      /\(root\): Unrecognized key.*postImport/,
    );
    expect(problemsOf((m) => (m.tables[0].onLoad = 'x'))).toMatch(/tables\.0: Unrecognized key.*onLoad/);
    expect(problemsOf((m) => (m.tables[0].columns[0].default = 'x'))).toMatch(
      /tables\.0\.columns\.0: Unrecognized/,
    );
    expect(problemsOf((m) => (m.schema.preData.url = 'x'))).toMatch(/schema\.preData: Unrecognized/);
    expect(problemsOf((m) => (m.sequences[0].sql = 'x'))).toMatch(/sequences\.0: Unrecognized/);
  });

  it('refuses sequence numbers that are not whole numbers in the bigint range', () => {
    for (const value of [
      '1; COPY x TO PROGRAM $$touch /tmp/p$$',
      '1.5',
      '1e3',
      ' 1',
      '01',
      '9223372036854775808',
    ]) {
      expect(problemsOf((m) => (m.sequences[0].lastValue = value))).toMatch(/sequences\.0\.lastValue: /);
    }
    expect(problemsOf((m) => (m.sequences[0].start = '1)--'))).toMatch(
      /sequences\.0\.start: not a whole number in the bigint range/,
    );
    expect(problemsOf((m) => (m.sequences[0].increment = 2))).toMatch(/sequences\.0\.increment: /);
    expect(problemsOf((m) => (m.tables[0].rows = 2.5))).toMatch(/tables\.0\.rows: /);
    expect(problemsOf((m) => (m.totals.bytes = -1))).toMatch(/totals\.bytes: /);
  });

  it('refuses identifiers that PostgreSQL could not have: empty, over 63 bytes, NUL or escapes', () => {
    expect(problemsOf((m) => (m.tables[0].name = ''))).toMatch(/tables\.0\.name: /);
    expect(problemsOf((m) => (m.tables[0].columns[0].name = 'é'.repeat(32)))).toMatch(/longer than 63 bytes/);
    expect(problemsOf((m) => (m.sequences[0].schema = 'a\u0000b'))).toMatch(
      /sequences\.0\.schema: contains control/,
    );
    expect(problemsOf((m) => (m.tool.version = '\u001b[2J'))).toMatch(/tool\.version: contains control/);
  });

  it('keeps every file key inside the snapshot folder, where its table writes it', () => {
    const outside = [
      `snapshots/${ID}/data/public.Odd%2EName/../../../../.bashrc`,
      `snapshots/other/data/public.Odd%2EName/part-00000.parquet`,
      `snapshots/${ID}/data/public.users/part-00000.parquet`,
      `/etc/passwd`,
      `snapshots/${ID}/data/public.Odd%2EName/part-00000.parquet/x`,
    ];
    for (const key of outside) {
      expect(problemsOf((m) => (m.tables[0].files[0].key = key))).toMatch(
        /tables\.0\.files\.0\.key: .* is not a file of snapshot/,
      );
    }
    expect(problemsOf((m) => (m.schema.drop.key = `snapshots/${ID}/schema/pre-data.sql`))).toMatch(
      /schema\.drop\.key: .* is not a file of snapshot/,
    );
  });

  it('refuses a manifest read from another snapshot folder, and numbers that do not add up', () => {
    expect(problemsOf(() => {}, '20990101T000000Z-ffffff')).toMatch(
      /describes snapshot 20260102T030405Z-0a1b2c, not 20990101T000000Z-ffffff/,
    );
    expect(problemsOf((m) => (m.tables[0].rows = 4))).toMatch(
      /tables\.0\.rows: 4 rows, but its files hold 3/,
    );
    expect(problemsOf((m) => m.tables.push(m.tables[0]))).toMatch(/is listed twice/);
    expect(problemsOf((m) => (m.snapshotId = '../x'))).toMatch(/snapshotId: not a snapshot id/);
  });

  it('escapes control characters of hostile keys in its message', () => {
    const message = problemsOf((m) => (m['\u001b]0;pwned\u0007'] = 1));
    expect(message).not.toContain(String.fromCharCode(27));
    expect(message).toContain('\\u001b');
  });

  it('refuses a latest pointer that names another snapshot’s manifest', () => {
    const pointer = {
      snapshotId: ID,
      manifestKey: `snapshots/${ID}/manifest.json`,
      manifestSha256: SHA,
      createdAt: '2026-01-02T03:04:05.678Z',
    };
    expect(latestPointerSchema.safeParse(pointer).success).toBe(true);
    expect(latestPointerSchema.safeParse({ ...pointer, manifestKey: '../manifest.json' }).success).toBe(
      false,
    );
    expect(latestPointerSchema.safeParse({ ...pointer, extra: 1 }).success).toBe(false);
  });
});
