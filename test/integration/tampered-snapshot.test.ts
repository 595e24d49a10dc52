import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotIntegrityError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { importSnapshot } from '../../core/import/import-snapshot.js';
import { LATEST_KEY, manifestKey } from '../../core/manifest.js';
import { pullSnapshot } from '../../core/pull/pull-snapshot.js';
import { textSha256 } from '../../core/store/file-digest.js';
import type { LocalDirectoryStore } from '../../core/store/local-directory-store.js';
import { PrivateKeySigner } from '../../core/trust/private-key-signer.js';
import { parsePublicKey } from '../../core/trust/public-key.js';
import { sealKey } from '../../core/trust/snapshot-seal.js';
import type { TrustPolicy } from '../../core/trust/trusted-keys.js';
import { runDevsnap } from '../support/cli-harness.js';
import {
  dropDatabase,
  queryDatabase,
  serverUrl,
  type TestDatabase,
  uniqueDatabaseName,
  withAdmin,
} from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { createShopDatabase } from '../support/shop-fixture.js';

const yes = async () => true;

/** Roles an injected statement would create are named so; other test files' roles are not ours to watch. */
const INJECTED_ROLE = 'devsnap_tamper_role';

/**
 * What an import could change on the server: databases named after the target (the target, or a
 * work database beside it), injected roles, ALTER SYSTEM settings. Other test files run beside this
 * one on the same server, so their databases and roles are left out.
 */
async function serverState(target: string) {
  return withAdmin(async (admin) => ({
    databases: (
      await admin.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1', [target])
    ).rows.map((row) => row.datname),
    roles: (
      await admin.query('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY 1', [
        INJECTED_ROLE,
      ])
    ).rows.map((row) => row.rolname),
    autoConf: (
      await admin.query(`SELECT count(*)::int AS n FROM pg_file_settings WHERE sourcefile LIKE '%.auto.conf'`)
    ).rows[0]?.n,
  }));
}

/**
 * Tampered snapshots, built from a real export and resealed (checksums recomputed) where the
 * attack needs it: each is refused before any database is touched, and nothing happens on the
 * server or the machine — no database, no rows, no role, no file the injected command would write.
 */
describe('a tampered snapshot is refused before any database is touched', () => {
  let source: TestDatabase;
  /** Two snapshots signed with `signing`, the newer one latest. */
  let store: TemporaryStore;
  let older: string;
  let snapshotId: string;
  /** The same source exported without a signature. */
  let unsignedStore: TemporaryStore;
  let target: string;
  let scratch: string;
  let marker: string;
  const signing = generateKeyPairSync('ed25519');
  const signingKey = signing.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const trusted: TrustPolicy = { keys: [parsePublicKey(signingKey)] };

  beforeAll(async () => {
    source = await createShopDatabase('tamper_src');
    // A function devsnap cannot check: only a signed snapshot from a trusted key may carry it.
    await source.client.query(
      `CREATE FUNCTION public.audit_now() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
       AS $$ BEGIN EXECUTE 'SELECT 1'; END $$`,
    );
    store = await temporaryStore();
    unsignedStore = await temporaryStore();
    const signer = new PrivateKeySigner(signing.privateKey, 'test key');
    const config = { anonymise: { mode: 'warn' as const } };
    older = (await exportSnapshot({ databaseUrl: source.url, store, config, signer })).snapshotId;
    snapshotId = (await exportSnapshot({ databaseUrl: source.url, store, config, signer })).snapshotId;
    await exportSnapshot({ databaseUrl: source.url, store: unsignedStore, config });
    target = uniqueDatabaseName('tamper_dst');
    scratch = await mkdtemp(join(tmpdir(), 'devsnap-tamper-'));
    marker = join(scratch, 'pwned');
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
    await unsignedStore.remove();
    await dropDatabase(target);
    await rm(scratch, { recursive: true, force: true });
  });

  /**
   * A copy of a good store, edited by `tamper`; with `reseal`, the attacker's next step: every
   * checksum recomputed over the new manifest (seal.json's digest, and latest.json's when it names
   * it). Nobody without the private key can recompute a signature.
   */
  async function tampered(
    tamper: (copy: LocalDirectoryStore) => Promise<void>,
    { from = store, id = snapshotId, reseal = true } = {},
  ): Promise<TemporaryStore> {
    const copy = await temporaryStore();
    await cp(from.location, copy.location, { recursive: true });
    await tamper(copy);
    if (!reseal) return copy;
    const digest = textSha256(await readFile(copy.localPath(manifestKey(id)), 'utf8'));
    const seal = JSON.parse(await readFile(copy.localPath(sealKey(id)), 'utf8'));
    await writeFile(copy.localPath(sealKey(id)), JSON.stringify({ ...seal, manifestSha256: digest }));
    const latest = JSON.parse(await readFile(copy.localPath(LATEST_KEY), 'utf8'));
    if (latest.snapshotId === id) {
      await writeFile(copy.localPath(LATEST_KEY), JSON.stringify({ ...latest, manifestSha256: digest }));
    }
    return copy;
  }

  /** Edits a schema script and records its new size and sha256 in the manifest, as an attacker would. */
  async function editSchema(
    copy: LocalDirectoryStore,
    file: 'preData' | 'postData' | 'drop',
    edit: (sql: string) => string,
  ) {
    const key = `snapshots/${snapshotId}/schema/${{ preData: 'pre-data', postData: 'post-data', drop: 'drop' }[file]}.sql`;
    const text = edit(await readFile(copy.localPath(key), 'utf8'));
    await writeFile(copy.localPath(key), text);
    await editManifest(copy, (manifest) => {
      const entry = (manifest.schema as Record<string, { bytes: number; sha256: string }>)[file]!;
      entry.bytes = Buffer.byteLength(text);
      entry.sha256 = textSha256(text);
    });
  }

  async function editManifest(
    copy: LocalDirectoryStore,
    edit: (manifest: Record<string, unknown>) => void,
    id = snapshotId,
  ) {
    const path = copy.localPath(manifestKey(id));
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    edit(manifest);
    await writeFile(path, JSON.stringify(manifest, null, 2));
  }

  /** Imports `copy` and expects a refusal matching `message`, with the server and disk unchanged. */
  async function expectRefused(
    copy: TemporaryStore,
    message: RegExp,
    options: { snapshot?: string; trust?: TrustPolicy } = {},
  ): Promise<void> {
    const before = await serverState(target);
    try {
      const error = await importSnapshot({
        databaseUrl: serverUrl(target),
        store: copy,
        confirm: yes,
        ...options,
      }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SnapshotIntegrityError);
      expect((error as Error).message).toMatch(message);
      expect(await serverState(target)).toEqual(before);
      expect(before.databases).toEqual([]);
      await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await copy.remove();
    }
  }

  it('an injected manifest field', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        manifest.postImport = `COPY (SELECT 1) TO PROGRAM 'touch ${marker}'`;
      }),
    );
    await expectRefused(
      copy,
      /is not a valid devsnap manifest:\n {2}\(root\): Unrecognized key: "postImport"/,
    );
  });

  it('SQL in a sequence position (the lastValue and start holes)', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        const [sequence] = manifest.sequences as { lastValue: string | null; start: string }[];
        sequence!.lastValue = `1::numeric); COPY (SELECT 1) TO PROGRAM 'touch ${marker}'; SELECT (1`;
        sequence!.start = `1); COPY (SELECT 1) TO PROGRAM 'touch ${marker}'; --`;
      }),
    );
    await expectRefused(
      copy,
      /sequences\.0\.start: not a whole number[\s\S]*sequences\.0\.lastValue: not a whole/,
    );
  });

  it('a data file key that climbs out of the snapshot folder', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        const [table] = manifest.tables as { files: { key: string }[] }[];
        table!.files[0]!.key = `snapshots/${snapshotId}/data/../../../../etc/passwd`;
      }),
    );
    await expectRefused(copy, /tables\.0\.files\.0\.key: ".*etc\/passwd" is not a file of snapshot/);
  });

  /** The older snapshot with its manifest edited, resealed (digests recomputed) or not. */
  const editedOlder = (reseal: boolean) =>
    tampered(
      (c) =>
        editManifest(
          c,
          (manifest) => {
            manifest.configHash = 'edited';
          },
          older,
        ),
      { id: older, reseal },
    );

  it('an older snapshot edited without resealing (only latest is named by latest.json)', async () => {
    await expectRefused(
      await editedOlder(false),
      new RegExp(`The manifest of snapshot ${older} was changed after it was sealed`),
      {
        snapshot: older,
      },
    );
  });

  it('an older snapshot edited and resealed, when its signing key is trusted', async () => {
    await expectRefused(
      await editedOlder(true),
      new RegExp(
        `The signature of snapshot ${older} does not verify against trusted key ${trusted.keys[0]?.id}`,
      ),
      { snapshot: older, trust: trusted },
    );
  });

  it('an unsigned snapshot when a key is trusted', async () => {
    const copy = await tampered(async () => {}, { from: unsignedStore, reseal: false });
    await expectRefused(copy, /is not signed, and you trust signing keys \([0-9a-f]{16}\): refusing it\./, {
      trust: trusted,
    });
  });

  it('a snapshot signed by a key the user does not trust', async () => {
    const stranger = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    const copy = await tampered(async () => {}, { reseal: false });
    await expectRefused(
      copy,
      /is signed by key [0-9a-f]{16}, which you do not trust \(trusted: [0-9a-f]{16}\)\./,
      {
        trust: { keys: [parsePublicKey(stranger.toString('base64'))] },
      },
    );
  });

  it('pull refuses it too, before downloading anything into the cache', async () => {
    const copy = await tampered(async () => {}, { from: unsignedStore, reseal: false });
    const cacheDirectory = join(scratch, 'cache');
    try {
      await expect(pullSnapshot({ store: copy, cacheDirectory, trust: trusted })).rejects.toThrow(
        /is not signed/,
      );
      await expect(stat(cacheDirectory)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await copy.remove();
    }
  });

  it.each([
    [
      'a shell command (COPY … TO PROGRAM)',
      'preData',
      (m: string) => `COPY (SELECT 1) TO PROGRAM 'touch ${m}';`,
      /COPY/,
    ],
    ['a DO block', 'postData', (m: string) => `DO $$ BEGIN PERFORM lo_export(1, '${m}'); END $$;`, /DO/],
    ['a role', 'preData', () => `CREATE ROLE ${INJECTED_ROLE} SUPERUSER LOGIN;`, /CREATE ROLE/],
    [
      'ALTER SYSTEM',
      'postData',
      (m: string) => `ALTER SYSTEM SET archive_command = 'touch ${m}';`,
      /ALTER SYSTEM/,
    ],
    [
      'a default that writes a server file',
      'preData',
      (m: string) => `CREATE TABLE public.innocent (a oid DEFAULT lo_export(lo_from_bytea(0, 'x'), '${m}'));`,
      /calls lo_export\(\)/,
    ],
    [
      'a function that runs a program when called',
      'preData',
      (m: string) =>
        `CREATE FUNCTION public.innocent() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN COPY (SELECT 1) TO PROGRAM 'touch ${m}'; END $f$;`,
      /function public\.innocent: runs COPY/,
    ],
    [
      'a statement in drop.sql',
      'drop',
      (m: string) => `DROP TABLE IF EXISTS x; COPY (SELECT 1) TO PROGRAM 'touch ${m}';`,
      /COPY in drop\.sql/,
    ],
  ] as const)('an injected schema statement: %s', async (_what, file, injection, expected) => {
    const copy = await tampered((c) => editSchema(c, file, (sql) => `${sql}\n${injection(marker)}\n`));
    await expectRefused(copy, expected);
  });

  it('a function devsnap cannot check, from an unsigned snapshot: refused, imported when the user vouches for it', async () => {
    await expectRefused(
      await tampered(async () => {}, { from: unsignedStore, reseal: false }),
      /creates functions devsnap cannot check, and no key you trust signed it:\n {2}pre-data\.sql line \d+: function public\.audit_now: runs with its owner’s rights \(SECURITY DEFINER\); runs SQL built at run time \(EXECUTE\)/,
    );
    try {
      // Signed by a trusted key: it is the team's production schema, as their pipeline exported it.
      const signed = await importSnapshot({
        databaseUrl: serverUrl(target),
        store,
        trust: trusted,
        confirm: yes,
      });
      expect(signed.seal).toEqual({ signature: 'verified', keyId: trusted.keys[0]?.id });
      await dropDatabase(target);
      await importSnapshot({
        databaseUrl: serverUrl(target),
        store: unsignedStore,
        allowUncheckedFunctions: true,
        confirm: yes,
      });
      const definer = await queryDatabase(
        target,
        "SELECT prosecdef FROM pg_proc WHERE proname = 'audit_now'",
      );
      expect(definer).toEqual([{ prosecdef: true }]);
    } finally {
      await dropDatabase(target);
    }
  });

  it('through the CLI: a wrong signature and an unknown key each get one line and exit code 5', async () => {
    const configDir = join(scratch, 'config');
    const resealed = await tampered((c) =>
      editManifest(c, (manifest) => {
        manifest.configHash = 'edited';
      }),
    );
    try {
      const added = await runDevsnap([
        'trust',
        'add',
        signingKey,
        '--name',
        'pipeline',
        '--config-dir',
        configDir,
      ]);
      expect(added.code).toBe(0);
      expect(added.stdout).toMatch(/^Trusting key [0-9a-f]{16} \(pipeline\)/);
      const env = { DEVSNAP_CONFIG_DIR: configDir };
      const args = ['import', '--yes', '--database-url', serverUrl(target), '--store'];
      const wrong = await runDevsnap([...args, resealed.location], { env });
      expect(wrong.code).toBe(5);
      expect(wrong.stderr).toMatch(
        /^devsnap: The signature of snapshot \S+ does not verify against trusted key [0-9a-f]{16}: .*\n {2}Do not import it\./,
      );
      expect(wrong.stderr.split('\n').filter(Boolean)).toHaveLength(2);
      const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
      const unknown = await runDevsnap([...args, store.location], {
        env: {
          DEVSNAP_CONFIG_DIR: join(scratch, 'empty'),
          DEVSNAP_TRUSTED_KEYS: stranger.export({ format: 'pem', type: 'spki' }).toString(),
        },
      });
      expect(unknown.code).toBe(5);
      expect(unknown.stderr).toMatch(
        /^devsnap: Snapshot \S+ is signed by key [0-9a-f]{16}, which you do not trust/,
      );
      expect(`${wrong.stderr}${unknown.stderr}`).not.toMatch(/\n\s+at /);
      const listed = await runDevsnap(['trust', 'list', '--json', '--config-dir', configDir]);
      expect(JSON.parse(listed.stdout).keys).toMatchObject([{ name: 'pipeline', publicKey: signingKey }]);
      const garbage = await runDevsnap(['trust', 'add', 'not-a-key', '--config-dir', configDir]);
      expect(garbage.code).toBe(2);
      expect(garbage.stderr).toMatch(/^devsnap: the key given is not a public key/);
      const removed = await runDevsnap(['trust', 'remove', trusted.keys[0]!.id, '--config-dir', configDir]);
      expect(removed.stdout).toMatch(/^No longer trusting key/);
      const unknownId = await runDevsnap(['trust', 'remove', 'ffffffff', '--config-dir', configDir]);
      expect(unknownId.code).toBe(2);
      expect(unknownId.stderr).toMatch(
        /^devsnap: No trusted key ffffffff in \S+trusted-keys\.json\.\n {2}See the ids with devsnap trust list\.\n$/,
      );
      expect(await serverState(target)).toMatchObject({ databases: [] });
    } finally {
      await resealed.remove();
    }
  });

  it('through the CLI: one clear line, exit code 5, no stack trace', async () => {
    const copy = await tampered((c) =>
      editManifest(c, (manifest) => {
        manifest.postImport = 'x';
      }),
    );
    try {
      const run = await runDevsnap([
        'import',
        '--yes',
        '--store',
        copy.location,
        '--database-url',
        serverUrl(target),
      ]);
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/^devsnap: .*manifest\.json is not a valid devsnap manifest:/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).toBe('');
    } finally {
      await copy.remove();
    }
  });
});
