import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { loadPagila } from './sql-script.js';

describe('test harness', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('harness');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('loads Pagila into a throwaway database on the embedded server', async () => {
    await loadPagila(db.client);
    const { rows } = await db.client.query<{ n: string }>('SELECT count(*) AS n FROM public.rental');
    expect(Number(rows[0]?.n)).toBe(16044);
    const payments = await db.client.query<{ n: string }>('SELECT count(*) AS n FROM public.payment');
    expect(Number(payments.rows[0]?.n)).toBeGreaterThan(16000);
  });
});
