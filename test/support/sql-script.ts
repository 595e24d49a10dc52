import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** The Pagila dump beside the repository (`DEVSNAP_PAGILA_DIR` for a worktree elsewhere). */
export const PAGILA_DIR =
  process.env.DEVSNAP_PAGILA_DIR ??
  join(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets/pagila');

/**
 * Runs a plain-SQL dump the way `psql -f` would for the files we use: statements go through the
 * simple query protocol, `COPY … FROM stdin;` blocks stream their data through COPY.
 */
export async function runSqlScript(client: pg.Client, sql: string): Promise<void> {
  const copyHeader = /^COPY [^\n]* FROM stdin;\n/gm;
  let position = 0;
  for (let match = copyHeader.exec(sql); match; match = copyHeader.exec(sql)) {
    const before = sql.slice(position, match.index);
    if (before.trim()) await client.query(before);
    const dataStart = match.index + match[0].length;
    const end = sql.indexOf('\n\\.\n', dataStart - 1);
    if (end < 0) throw new Error(`unterminated COPY block at offset ${match.index}`);
    const data = sql.slice(dataStart, end + 1);
    await pipeline(Readable.from([Buffer.from(data)]), client.query(copyFrom(match[0].trim().slice(0, -1))));
    position = end + 4;
    copyHeader.lastIndex = position;
  }
  const rest = sql.slice(position);
  if (rest.trim()) await client.query(rest);
}

/** Loads Pagila (schema, then data) into the connected, empty database. */
export async function loadPagila(client: pg.Client): Promise<void> {
  await runSqlScript(client, await readFile(join(PAGILA_DIR, 'pagila-schema.sql'), 'utf8'));
  await runSqlScript(client, await readFile(join(PAGILA_DIR, 'pagila-data.sql'), 'utf8'));
  // The dump leaves search_path empty for the session.
  await client.query('SET search_path TO public');
}
