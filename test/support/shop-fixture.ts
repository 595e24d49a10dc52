import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { runSqlScript } from './sql-script.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/small-shop.sql');

/** Loads test/fixtures/small-shop.sql into the connected, empty database. */
export async function loadSmallShop(client: pg.Client): Promise<void> {
  await runSqlScript(client, await readFile(FIXTURE, 'utf8'));
}
