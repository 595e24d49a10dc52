import type pg from 'pg';

/**
 * A small database with personal data in every shape the gate must catch: plain columns, a
 * unique email key referenced by a foreign key, a username primary key referenced by another
 * table, arrays, json and jsonb (nested and in arrays), free text, inet, and the same email in
 * two unrelated tables. Every personal value contains a canary that must never reach a snapshot.
 */
export const CANARIES = {
  email: 'qzxcanary',
  name: 'Qzxname',
  phone: '+99 555 0199 871',
  birthDate: '1911-11-11',
  ip: '203.0.113.77',
  card: '4929 1739 5012 4789',
  token: 'qzxtoken',
  address: 'Qzxstreet',
  postcode: 'QZ9 9XQ',
  password: 'qzxpasswordhash',
} as const;

/** Every canary string to look for in snapshot bytes. */
export const CANARY_STRINGS: readonly string[] = [
  CANARIES.email,
  CANARIES.name,
  CANARIES.phone,
  CANARIES.birthDate,
  CANARIES.ip,
  CANARIES.card,
  CANARIES.token,
  CANARIES.address,
  CANARIES.postcode,
  CANARIES.password,
];

export const PERSONAL_DATA_ROWS = 300;

export async function loadPersonalData(client: pg.Client, rows = PERSONAL_DATA_ROWS): Promise<void> {
  const c = CANARIES;
  await client.query(`
    CREATE TABLE public.customers (
      id serial PRIMARY KEY,
      email varchar(40) NOT NULL UNIQUE,
      first_name text NOT NULL,
      last_name varchar(30),
      phone text,
      date_of_birth date CHECK (date_of_birth > DATE '1900-01-01'),
      is_staff boolean NOT NULL DEFAULT false,
      aliases text[],
      profile jsonb,
      settings json,
      notes text,
      last_ip inet,
      password_hash text NOT NULL,
      api_token text,
      loyalty_points integer NOT NULL DEFAULT 0
    );
    CREATE TABLE public.orders (
      id serial PRIMARY KEY,
      customer_email varchar(40) NOT NULL REFERENCES public.customers (email),
      total numeric(10, 2) NOT NULL,
      shipping_address text,
      postcode varchar(10)
    );
    CREATE TABLE public.newsletter (
      email text NOT NULL,
      subscribed_at timestamptz NOT NULL
    );
    CREATE TABLE public.accounts (
      username varchar(24) PRIMARY KEY,
      created_on date NOT NULL
    );
    CREATE TABLE public.logins (
      id serial PRIMARY KEY,
      username varchar(24) NOT NULL REFERENCES public.accounts (username),
      at timestamptz NOT NULL
    );
    CREATE TABLE public.countries (code char(2) PRIMARY KEY, name text NOT NULL);
    INSERT INTO public.countries VALUES ('GB', 'United Kingdom'), ('DE', 'Germany');

    INSERT INTO public.customers (email, first_name, last_name, phone, date_of_birth, is_staff, aliases, profile, settings,
                                  notes, last_ip, password_hash, api_token, loyalty_points)
    SELECT '${c.email}' || g || '@leak.example', '${c.name}' || g, 'Last${c.name}' || g,
           '${c.phone}', DATE '${c.birthDate}', g % 50 = 0,
           ARRAY['alias.${c.email}' || g || '@leak.example', NULL],
           jsonb_build_object('contact', jsonb_build_object('email', '${c.email}' || g || '@leak.example',
                                                            'phone', '${c.phone}'),
                              'theme', 'dark',
                              'cards', jsonb_build_array(jsonb_build_object('number', '${c.card}')),
                              'big', 12345678901234567890),
           json_build_object('backup_email', 'b.${c.email}' || g || '@leak.example', 'ratio', 1.10),
           'Call me at ${c.phone} or write to ${c.email}' || g || '@leak.example',
           '${c.ip}', '${c.password}' || g, '${c.token}' || g, g
    FROM generate_series(1, ${rows}) g;
    INSERT INTO public.orders (customer_email, total, shipping_address, postcode)
    SELECT '${c.email}' || (1 + g % ${rows}) || '@leak.example', g * 1.5, g || ' ${c.address}', '${c.postcode}'
    FROM generate_series(1, ${rows * 2}) g;
    INSERT INTO public.newsletter SELECT '${c.email}' || g || '@leak.example', TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * interval '1 day'
    FROM generate_series(1, ${rows}, 2) g;
    INSERT INTO public.accounts SELECT '${c.name}' || g, DATE '2025-01-01' + g FROM generate_series(1, ${rows}) g;
    INSERT INTO public.logins (username, at) SELECT '${c.name}' || (1 + g % ${rows}), TIMESTAMPTZ '2026-02-01 00:00:00+00' + g * interval '1 hour'
    FROM generate_series(1, ${rows}) g;
    ANALYZE;
  `);
}
