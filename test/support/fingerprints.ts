import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { LocalDirectoryStore } from '../../core/store/local-directory-store.js';

/** A store in a temporary directory that remove() deletes. */
export type TemporaryStore = LocalDirectoryStore & { remove(): Promise<void> };

/** A store in a fresh temporary directory. */
export async function temporaryStore(): Promise<TemporaryStore> {
  const directory = await mkdtemp(join(tmpdir(), 'devsnap-test-store-'));
  const store = new LocalDirectoryStore(directory);
  return Object.assign(store, { remove: () => rm(directory, { recursive: true, force: true }) });
}

export interface TableFingerprint {
  readonly rows: number;
  /** md5 of every row's text form, ordered: equal hashes mean equal rows. */
  readonly hash: string;
}

/** Row count and ordered hash of every user table (partitions included), keyed by `schema.table`. */
export async function tableFingerprints(client: pg.Client): Promise<Record<string, TableFingerprint>> {
  const { rows: tables } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_%'
     ORDER BY 1`,
  );
  const result: Record<string, TableFingerprint> = {};
  for (const { name } of tables) {
    const { rows } = await client.query<{ n: string; hash: string | null }>(
      `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS hash FROM ${name} t`,
    );
    result[name] = { rows: Number(rows[0]?.n), hash: rows[0]?.hash ?? '' };
  }
  return result;
}
