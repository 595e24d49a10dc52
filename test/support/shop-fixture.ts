import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { runSqlScript } from './sql-script.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/small-shop.sql');

/** Loads test/fixtures/small-shop.sql into the connected, empty database. */
export async function loadSmallShop(client: pg.Client): Promise<void> {
  await runSqlScript(client, await readFile(FIXTURE, 'utf8'));
}

/** A new database of the test server holding the small shop; drop() removes it. */
export async function createShopDatabase(prefix: string): Promise<TestDatabase> {
  const database = await createTestDatabase(prefix);
  try {
    await loadSmallShop(database.client);
  } catch (error) {
    await database.drop();
    throw error;
  }
  return database;
}
