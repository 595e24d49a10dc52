/**
 * A realistic "production" shop database for the demo, the benchmark and tests of the engine.
 *
 * Every value is derived from the row's id through `hashint8extended`, never `random()`: the same
 * scale gives the same rows on every run and every server (hash partitioning relies on these
 * functions, so PostgreSQL keeps them stable across versions). Rows are generated server-side with
 * `generate_series`, so scale 20 (~2M rows) builds in about 15 seconds on two cores.
 *
 * It deliberately contains what makes snapshots hard: two schemas, an enum, a domain, identity
 * columns (ALWAYS and BY DEFAULT), a free sequence used as a column default, a composite primary
 * key, a nullable self-reference forming threads, nullable and cross-schema foreign keys, jsonb,
 * arrays whose elements need quoting, uuid, text with non-ASCII characters, tabs, newlines and
 * backslashes, partial and expression indexes, and a view.
 */
import type pg from 'pg';
import { demoVocabulary as words } from './demo-vocabulary.js';

export interface DemoOptions {
  /** 1 ≈ 100k rows, 20 ≈ 2M rows. Fractions are allowed (tests use 0.05). */
  readonly scale?: number;
}

export interface DemoTableSummary {
  /** `schema.table` */
  readonly table: string;
  readonly rows: number;
}

export interface DemoSummary {
  readonly scale: number;
  /** In dependency order: parents before children. */
  readonly tables: readonly DemoTableSummary[];
  readonly totalRows: number;
  readonly durationMs: number;
}

/** Tables the demo creates, parents before children. */
export const DEMO_TABLES = [
  'public.users',
  'public.addresses',
  'public.products',
  'public.orders',
  'public.order_items',
  'public.comments',
  'billing.payments',
] as const;

/** Rows per unit of scale; order_items (~2.5 per order) and payments (~80% of orders) follow from these. */
const ROWS_PER_SCALE = { users: 5_000, products: 1_000, orders: 18_000, comments: 10_000 } as const;

/**
 * SQL for a deterministic pseudo-random float8 in [0, 1) derived from an integer expression. Each
 * column uses its own salt so that columns drawn from the same id are not correlated.
 */
function rnd(idExpression: string, salt: number): string {
  return `((hashint8extended((${idExpression})::bigint, ${salt}) & 2147483647)::float8 / 2147483648.0)`;
}

/** SQL for a text[] constructor holding `values`. */
function textArray(values: readonly string[]): string {
  return `(ARRAY[${values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ')}]::text[])`;
}

/** SQL picking one of `values` by a pseudo-random draw. */
function pick(values: readonly string[], idExpression: string, salt: number): string {
  return `${textArray(values)}[1 + floor(${rnd(idExpression, salt)} * ${values.length})::int]`;
}

function scaled(perScale: number, scale: number): number {
  return Math.max(1, Math.round(perScale * scale));
}

/**
 * Creates the schema and data in the connected, empty database, in one transaction (a failure
 * leaves nothing behind), then ANALYZEs it. Returns exact row counts per table.
 */
export async function buildDemoDatabase(client: pg.Client, options: DemoOptions = {}): Promise<DemoSummary> {
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`demo scale must be > 0, got ${scale}`);
  const started = performance.now();
  const counts = {
    users: scaled(ROWS_PER_SCALE.users, scale),
    products: scaled(ROWS_PER_SCALE.products, scale),
    orders: scaled(ROWS_PER_SCALE.orders, scale),
    comments: scaled(ROWS_PER_SCALE.comments, scale),
  };

  await client.query('BEGIN');
  try {
    await client.query(schemaSql());
    for (const statement of dataSql(counts)) await client.query(statement);
    await client.query(constraintsSql());
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  // Planner statistics and row estimates, as a long-lived production database has them.
  await client.query('ANALYZE');

  const tables: DemoTableSummary[] = [];
  for (const table of DEMO_TABLES) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    tables.push({ table, rows: Number(rows[0]?.n ?? 0) });
  }
  return {
    scale,
    tables,
    totalRows: tables.reduce((sum, table) => sum + table.rows, 0),
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Tables without foreign keys or secondary indexes: loading first and constraining after is several
 * times faster than checking every row, and is how pg_restore does it too.
 */
function schemaSql(): string {
  return `
    CREATE SCHEMA billing;
    COMMENT ON SCHEMA billing IS 'Payments and invoicing, owned by the finance team';

    CREATE TYPE public.order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded');
    CREATE DOMAIN public.positive_money AS numeric(12, 2) CHECK (VALUE > 0);

    -- Free: invoice numbers continue across orders and credit notes, so no column owns it.
    CREATE SEQUENCE billing.invoice_number_seq AS bigint START WITH 100001;

    CREATE TABLE public.users (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email varchar(254) NOT NULL,
      first_name varchar(50) NOT NULL,
      last_name varchar(50) NOT NULL,
      phone varchar(32),
      date_of_birth date,
      created_at timestamptz NOT NULL DEFAULT now(),
      is_staff boolean NOT NULL DEFAULT false,
      preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
      CONSTRAINT users_email_key UNIQUE (email),
      CONSTRAINT users_date_of_birth_check CHECK (date_of_birth > DATE '1900-01-01')
    );
    COMMENT ON TABLE public.users IS 'Customers and staff; every column except id and flags is personal data';

    CREATE TABLE public.addresses (
      id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      line1 text NOT NULL,
      line2 text,
      city text NOT NULL,
      postal_code varchar(16) NOT NULL,
      country_code char(2) NOT NULL,
      is_default boolean NOT NULL DEFAULT false
    );

    CREATE TABLE public.products (
      id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      sku varchar(32) NOT NULL UNIQUE,
      name text NOT NULL,
      description text,
      price public.positive_money NOT NULL,
      tags text[] NOT NULL DEFAULT '{}',
      is_active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE public.orders (
      id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      status public.order_status NOT NULL DEFAULT 'pending',
      total numeric(12, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
      currency char(3) NOT NULL DEFAULT 'EUR',
      shipping_address_id bigint,
      invoice_number bigint NOT NULL DEFAULT nextval('billing.invoice_number_seq') UNIQUE,
      placed_at timestamptz NOT NULL,
      note text
    );

    CREATE TABLE public.order_items (
      order_id bigint NOT NULL,
      line_no smallint NOT NULL,
      product_id bigint NOT NULL,
      quantity integer NOT NULL CHECK (quantity > 0),
      unit_price public.positive_money NOT NULL,
      PRIMARY KEY (order_id, line_no)
    );

    CREATE TABLE public.comments (
      id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      parent_id bigint,
      body text NOT NULL,
      created_at timestamptz NOT NULL
    );

    CREATE TABLE billing.payments (
      id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL,
      amount public.positive_money NOT NULL,
      method text NOT NULL,
      card_last4 char(4),
      provider_reference uuid NOT NULL UNIQUE,
      paid_at timestamptz NOT NULL
    );
  `;
}

interface DemoCounts {
  readonly users: number;
  readonly products: number;
  readonly orders: number;
  readonly comments: number;
}

/** One INSERT … SELECT per table; ids are explicit so children can compute their parents' ids. */
function dataSql(counts: DemoCounts): string[] {
  const addresses = Math.floor(counts.users * 1.5);
  const slug = (column: string) =>
    `translate(lower(${column}), 'áàäâãåçéèëêíìïîñóòöôõøúùüûýÿłśźżćńšžčıŁ''', 'aaaaaaceeeeiiiinoooooouuuuyylszzcnszcil')`;
  return [
    `INSERT INTO public.users
       (id, email, first_name, last_name, phone, date_of_birth, created_at, is_staff, preferences)
     OVERRIDING SYSTEM VALUE
     SELECT id,
            ${slug('first_name')} || '.' || ${slug('last_name')} || '.' || id || '@' || ${pick(words.emailDomains, 'id', 3)},
            first_name, last_name,
            CASE WHEN ${rnd('id', 4)} < 0.12 THEN NULL
                 ELSE '+44 7700 ' || lpad((hashint8extended(id, 5) & 999999)::text, 6, '0') END,
            CASE WHEN ${rnd('id', 6)} < 0.05 THEN NULL
                 ELSE DATE '1950-01-01' + floor(${rnd('id', 7)} * 20000)::int END,
            -- Sign-ups grow with id, with microsecond jitter so timestamps are not round.
            TIMESTAMPTZ '2019-01-01 00:00:00+00'
              + make_interval(secs => (id::float8 / ${counts.users}) * 157680000 + ${rnd('id', 8)} * 3600),
            id % 250 = 0,
            jsonb_build_object(
              'newsletter', ${rnd('id', 9)} < 0.3,
              'language', ${pick(words.languages, 'id', 10)},
              'theme', ${pick(words.themes, 'id', 11)},
              'notifications', jsonb_build_object('email', ${rnd('id', 12)} < 0.7, 'sms', ${rnd('id', 13)} < 0.1)
            ) || CASE WHEN ${rnd('id', 14)} < 0.2
                      THEN jsonb_build_object('favourite_categories', jsonb_build_array('home', 'garden'))
                      ELSE '{}'::jsonb END
     FROM (SELECT id,
                  ${pick(words.firstNames, 'id', 1)} AS first_name,
                  ${pick(words.lastNames, 'id', 2)} AS last_name
           FROM generate_series(1, ${counts.users}) AS id) AS u
     ORDER BY id`,

    // Users get one or two addresses: address a belongs to user floor((a - 1) * 2 / 3) + 1.
    `INSERT INTO public.addresses (id, user_id, line1, line2, city, postal_code, country_code, is_default)
     SELECT a,
            (a - 1) * 2 / 3 + 1,
            (1 + (hashint8extended(a, 20) & 255)) || ' ' || ${pick(words.streets, 'a', 21)},
            CASE WHEN ${rnd('a', 22)} < 0.25 THEN 'Flat ' || (1 + (hashint8extended(a, 23) & 31)) END,
            ${textArray(words.cities)}[1 + city_index],
            lpad((hashint8extended(a, 24) & 99999)::text, 5, '0'),
            ${textArray(words.countries)}[1 + city_index],
            a = 1 OR (a - 2) * 2 / 3 + 1 <> (a - 1) * 2 / 3 + 1
     FROM (SELECT a, floor(${rnd('a', 25)} * ${words.cities.length})::int AS city_index
           FROM generate_series(1, ${addresses}) AS a) AS s
     ORDER BY a`,

    `INSERT INTO public.products (id, sku, name, description, price, tags, is_active, created_at)
     SELECT p,
            'SKU-' || lpad(p::text, 7, '0'),
            ${pick(words.productAdjectives, 'p', 30)} || ' ' || ${pick(words.productNouns, 'p', 31)} || ' ' || p,
            CASE WHEN ${rnd('p', 32)} < 0.1 THEN NULL
                 ELSE E'Ships in 2–3 days.\\nMaterial: ' || ${pick(words.materials, 'p', 33)} END,
            round((1.99 + ${rnd('p', 34)} ^ 2 * 498)::numeric, 2),
            ARRAY(SELECT ${pick(words.tags, 'p * 8 + t', 35)} FROM generate_series(1, floor(${rnd('p', 36)} * 4)::int) AS t),
            ${rnd('p', 37)} >= 0.07,
            TIMESTAMPTZ '2018-06-01 00:00:00+00' + make_interval(secs => ${rnd('p', 38)} * 150000000)
     FROM generate_series(1, ${counts.products}) AS p
     ORDER BY p`,

    // Lines first: the order's total is the sum of its lines (foreign keys come after the data).
    `INSERT INTO public.order_items (order_id, line_no, product_id, quantity, unit_price)
     SELECT i.order_id, i.line_no, i.product_id, i.quantity, p.price
     FROM (SELECT o AS order_id, l AS line_no,
                  1 + floor(${rnd('o * 8 + l', 41)} ^ 1.5 * ${counts.products})::bigint AS product_id,
                  1 + floor(${rnd('o * 8 + l', 42)} ^ 3 * 5)::int AS quantity
           FROM generate_series(1, ${counts.orders}) AS o
           CROSS JOIN LATERAL generate_series(1, 1 + floor(${rnd('o', 40)} * 4)::int) AS l) AS i
     JOIN public.products AS p ON p.id = i.product_id
     ORDER BY i.order_id, i.line_no`,

    // invoice_number is left to its default, the free sequence; rows go in id order so it is repeatable.
    `INSERT INTO public.orders (id, user_id, status, total, currency, shipping_address_id, placed_at, note)
     SELECT o.id, o.user_id, o.status, t.total,
            CASE WHEN ${rnd('o.id', 53)} < 0.85 THEN 'EUR' ELSE 'GBP' END,
            -- Digital goods and click-and-collect have no shipping address.
            CASE WHEN ${rnd('o.id', 54)} < 0.08 THEN NULL
                 WHEN ${rnd('o.id', 55)} < 0.3 THEN a.last_id ELSE a.first_id END,
            u.created_at + make_interval(secs => ${rnd('o.id', 56)}
              * extract(epoch FROM TIMESTAMPTZ '2024-06-30 00:00:00+00' - u.created_at)),
            CASE WHEN ${rnd('o.id', 57)} < 0.05 THEN E'Leave at the door\\tif nobody answers' END
     FROM (SELECT id,
                  -- Skewed: a few customers place many orders, many place none.
                  1 + floor(${rnd('id', 50)} ^ 2 * ${counts.users})::bigint AS user_id,
                  CASE WHEN r < 0.08 THEN 'pending' WHEN r < 0.18 THEN 'paid' WHEN r < 0.28 THEN 'shipped'
                       WHEN r < 0.83 THEN 'delivered' WHEN r < 0.95 THEN 'cancelled' ELSE 'refunded'
                  END::public.order_status AS status
           FROM (SELECT id, ${rnd('id', 51)} AS r FROM generate_series(1, ${counts.orders}) AS id) AS g) AS o
     JOIN public.users AS u ON u.id = o.user_id
     JOIN (SELECT user_id, min(id) AS first_id, max(id) AS last_id
           FROM public.addresses GROUP BY user_id) AS a ON a.user_id = o.user_id
     JOIN (SELECT order_id, sum(quantity * unit_price) AS total
           FROM public.order_items GROUP BY order_id) AS t ON t.order_id = o.id
     ORDER BY o.id`,

    // About 40% of comments reply to one of the 50 comments before them, forming threads.
    `INSERT INTO public.comments (id, user_id, parent_id, body, created_at)
     SELECT c,
            1 + floor(${rnd('c', 60)} * ${counts.users})::bigint,
            CASE WHEN c > 1 AND ${rnd('c', 61)} < 0.4
                 THEN c - 1 - floor(${rnd('c', 62)} * least(c - 1, 50))::bigint END,
            ${pick(words.commentOpenings, 'c', 63)} || ${pick(words.commentClosings, 'c', 64)},
            TIMESTAMPTZ '2020-01-01 00:00:00+00'
              + make_interval(secs => (c::float8 / ${counts.comments}) * 140000000 + ${rnd('c', 65)} * 60)
     FROM generate_series(1, ${counts.comments}) AS c
     ORDER BY c`,

    `INSERT INTO billing.payments (order_id, amount, method, card_last4, provider_reference, paid_at)
     SELECT o.id, o.total, m.method,
            CASE WHEN m.method = 'card' THEN lpad((hashint8extended(o.id, 71) & 8191)::text, 4, '0') END,
            md5('payment-' || o.id)::uuid,
            o.placed_at + make_interval(secs => 5 + ${rnd('o.id', 72)} * 900)
     FROM public.orders AS o
     CROSS JOIN LATERAL (SELECT ${pick(words.paymentMethods, 'o.id', 70)} AS method) AS m
     WHERE o.status IN ('paid', 'shipped', 'delivered', 'refunded')
     ORDER BY o.id`,

    // Explicit ids bypassed the identity sequences; move them past the data as a live database would be.
    ...DEMO_TABLES.filter((table) => table !== 'public.order_items').map(
      (table) => `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`,
    ),
  ];
}

function constraintsSql(): string {
  return `
    ALTER TABLE public.addresses
      ADD CONSTRAINT addresses_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE;
    ALTER TABLE public.orders
      ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id),
      ADD CONSTRAINT orders_shipping_address_id_fkey FOREIGN KEY (shipping_address_id)
        REFERENCES public.addresses (id) ON DELETE SET NULL;
    ALTER TABLE public.order_items
      ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders (id) ON DELETE CASCADE,
      ADD CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.products (id);
    ALTER TABLE public.comments
      ADD CONSTRAINT comments_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
      ADD CONSTRAINT comments_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.comments (id) ON DELETE CASCADE;
    ALTER TABLE billing.payments
      ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders (id);

    CREATE INDEX addresses_user_id_idx ON public.addresses (user_id);
    CREATE INDEX orders_user_id_idx ON public.orders (user_id);
    CREATE INDEX order_items_product_id_idx ON public.order_items (product_id);
    CREATE INDEX comments_user_id_idx ON public.comments (user_id);
    CREATE INDEX comments_parent_id_idx ON public.comments (parent_id) WHERE parent_id IS NOT NULL;
    CREATE INDEX payments_order_id_idx ON billing.payments (order_id);
    CREATE INDEX products_tags_idx ON public.products USING gin (tags);
    -- Partial: the fulfilment queue only ever looks at open orders.
    CREATE INDEX orders_open_placed_at_idx ON public.orders (placed_at) WHERE status IN ('pending', 'paid');
    -- Expression: log-in looks users up case-insensitively.
    CREATE UNIQUE INDEX users_lower_email_idx ON public.users (lower(email));

    CREATE VIEW billing.monthly_revenue AS
      SELECT date_trunc('month', p.paid_at) AS month, o.currency, sum(p.amount) AS revenue, count(*) AS payments
      FROM billing.payments AS p JOIN public.orders AS o ON o.id = p.order_id
      GROUP BY 1, 2;
  `;
}
