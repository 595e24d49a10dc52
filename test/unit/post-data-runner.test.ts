import { describe, expect, it } from 'vitest';
import { planPostData } from '../../core/import/post-data-runner.js';
import { parseSchemaScript } from '../../core/import/schema-script.js';

const HEADER = ["SET client_encoding = 'UTF8';", "SELECT pg_catalog.set_config('search_path', '', false);"];
const KEYS = [
  'ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);',
  'ALTER TABLE ONLY public.users ADD CONSTRAINT users_email_key UNIQUE (email);',
  'CREATE INDEX orders_user_id_idx ON public.orders USING btree (user_id);',
];
const VIEW = 'CREATE OR REPLACE VIEW public.v AS\n SELECT 1 AS one;';
const FOREIGN_KEYS = [
  'ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);',
  'ALTER TABLE ONLY "Shop"."Line items" ADD CONSTRAINT li_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);',
];
const COMMENT = "COMMENT ON TABLE public.users IS 'people';";

async function plan(statements: readonly string[]) {
  const script = await parseSchemaScript(`${statements.join('\n\n')}\n`, 'post-data.sql', {
    allowUnchecked: false,
  });
  return planPostData(script.statements).map((part) => ({
    kind: part.kind,
    // A statement's text is as the parser cut it: without its semicolon.
    statements: part.statements.map((statement) => `${statement.text.trim()};`),
    ...(part.kind === 'at-once' ? { tables: part.tables } : {}),
  }));
}

describe('planPostData', () => {
  it('runs keys and indexes at once, foreign keys at once by the tables they lock, the rest in order', async () => {
    expect(await plan([...HEADER, ...KEYS, VIEW, ...FOREIGN_KEYS, COMMENT])).toEqual([
      { kind: 'in-order', statements: HEADER },
      {
        kind: 'at-once',
        statements: KEYS,
        tables: [['public.users'], ['public.users'], ['public.orders']],
      },
      { kind: 'in-order', statements: [VIEW] },
      {
        kind: 'at-once',
        statements: FOREIGN_KEYS,
        tables: [
          ['public.orders', 'public.users'],
          ['Shop.Line items', 'public.orders'],
        ],
      },
      { kind: 'in-order', statements: [COMMENT] },
    ]);
  });

  it('keeps a lone key, and statements of other kinds between keys, in order', async () => {
    const parts = await plan([...HEADER, KEYS[0]!, VIEW, KEYS[2]!, COMMENT]);
    expect(parts).toEqual([{ kind: 'in-order', statements: [...HEADER, KEYS[0], VIEW, KEYS[2], COMMENT] }]);
  });
});
