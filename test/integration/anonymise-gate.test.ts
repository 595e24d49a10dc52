import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersonalDataError } from '../../core/anonymise/personal-data-gate.js';
import { UsageError } from '../../core/errors.js';
import { exportSnapshot } from '../../core/export/export-snapshot.js';
import { fake, hash, jsonPaths, keep } from '../../strategies/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { loadPersonalData } from '../support/personal-data-fixture.js';
import { readManifest } from '../support/snapshot-values.js';

const env = { DEVSNAP_SECRET: 'gate-test-secret-0123456789abcdef' };

describe('the strict anonymisation gate', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let firstSnapshot: string;

  beforeAll(async () => {
    source = await createTestDatabase('anon_gate');
    await loadPersonalData(source.client, 60);
    store = await temporaryStore();
    // A snapshot already in the store, so the test can see that `latest` stays on it.
    firstSnapshot = (
      await exportSnapshot({ databaseUrl: source.url, store, env, config: { anonymise: { mode: 'warn' } } })
    ).snapshotId;
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
  });

  it('stops an export with unconfigured personal columns, lists each with why and the fix, and writes nothing', async () => {
    const keysBefore = await store.list('');
    const latestBefore = await store.readText('latest.json');
    const error = await exportSnapshot({ databaseUrl: source.url, store, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersonalDataError);
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as PersonalDataError).message;
    expect(message).toMatch(
      /^The anonymisation gate stopped the export before anything was written: 18 columns look personal and have no rule\./,
    );
    // By name, with the config line that fixes it.
    expect(message).toContain(
      "  public.customers.email: name looks like an email address; 60 of 60 sampled values look like an email address\n      'public.customers.email': fake('internet.email'),",
    );
    // A foreign key to a column without a rule is told to follow it.
    expect(message).toContain(
      'public.orders.customer_email: name looks like an email address; 120 of 120 sampled values look like an email address\n      (no rule of its own: it follows public.customers.email through orders_customer_email_fkey once that has a rule)',
    );
    expect(message).toContain(
      "public.customers.last_ip: type inet holds an IP address\n      'public.customers.last_ip': fake('internet.ipv4'),",
    );
    expect(message).toContain(
      "public.customers.date_of_birth: name looks like a birth date\n      'public.customers.date_of_birth': dateShift({ days: 180 }),",
    );
    expect(message).toContain("'public.customers.password_hash': hash({ format: 'hex' }),");
    expect(message).toContain("'public.customers.api_token': nullValue(),");
    // By value: free text, arrays and JSON (nested objects, arrays inside JSON, json and jsonb).
    // Free text gets scrub(): only the personal parts are replaced and the text stays readable.
    expect(message).toContain(
      "public.customers.notes: 60 of 60 sampled values contain an email address; 60 of 60 sampled values contain a phone number\n      'public.customers.notes': scrub(),",
    );
    expect(message).toContain(
      "public.customers.aliases: 60 of 60 sampled values look like an email address\n      'public.customers.aliases': fake('internet.email'),",
    );
    expect(message).toMatch(
      /public\.customers\.profile: sampled JSON has personal data at \$\.cards\[\*\]\.number \(a payment card number\), \$\.contact\.email \(an email address\), \$\.contact\.phone \(a phone number\)/,
    );
    expect(message).toContain(
      "'public.customers.profile': jsonPaths({ '$': scrub(), '$.cards[*].number': fake('finance.creditCardNumber'), '$.contact.email': fake('internet.email'), '$.contact.phone': fake('phone.number', { args: { style: 'international' } }) }),",
    );
    expect(message).toContain(
      'public.customers.settings: sampled JSON has personal data at $.backup_email (an email address)',
    );
    expect(message).toContain('public.orders.shipping_address: name looks like a street address');
    expect(message).toContain('public.logins.username: name looks like a username');
    // Not personal: flags, numbers, reference data.
    expect(message).not.toMatch(/is_staff|loyalty_points|countries|public\.orders\.total/);
    // Never a value.
    expect(message).not.toMatch(/qzx|Qzx|203\.0\.113|0199/);
    expect((error as PersonalDataError).hint).toMatch(
      /anonymise\.rules in devsnap\.config\.ts, or keep\('why it is not personal'\)/,
    );

    expect(await store.list('')).toEqual(keysBefore);
    expect(await store.readText('latest.json')).toBe(latestBefore);
  });

  it('names only the columns still missing a rule, and a jsonPaths rule that misses a path', async () => {
    const error = await exportSnapshot({
      databaseUrl: source.url,
      store,
      env,
      config: {
        anonymise: {
          rules: {
            email: fake('internet.email'),
            username: fake('internet.username'),
            first_name: fake('person.firstName'),
            last_name: fake('person.lastName'),
            phone: fake('phone.number'),
            'customers.date_of_birth': keep('test: synthetic birth dates'),
            'public.customers.aliases': fake('internet.email'),
            'public.customers.profile': jsonPaths({ '$.contact.email': fake('internet.email') }),
            'public.customers.settings': jsonPaths({ '$.backup_email': fake('internet.email') }),
            notes: fake('lorem.sentence'),
            last_ip: fake('internet.ipv4'),
            password_hash: hash(),
            api_token: hash(),
            shipping_address: fake('location.streetAddress'),
          },
        },
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersonalDataError);
    const message = (error as PersonalDataError).message;
    expect(message).toMatch(
      /: 1 column look personal and have no rule\.\n {2}public\.orders\.postcode: name looks like a postcode\n\s+'public\.orders\.postcode': fake\('location\.zipCode'\),$/,
    );
  });

  it('refuses the leftovers of a jsonPaths rule that misses personal paths', async () => {
    const error = await exportSnapshot({
      databaseUrl: source.url,
      store,
      env,
      config: {
        anonymise: {
          mode: 'strict',
          patterns: [[/./, keep('test: everything else is synthetic')]],
          rules: { 'public.customers.profile': jsonPaths({ '$.contact.email': fake('internet.email') }) },
        },
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersonalDataError);
    expect((error as Error).message).toMatch(
      /1 column still hold personal data after their JSON rules\.\n {2}public\.customers\.profile: after jsonPaths\(\$\.contact\.email: fake\(internet\.email\)\), sampled JSON has personal data at \$\.cards\[\*\]\.number \(a payment card number\), \$\.contact\.phone \(a phone number\)\n {6}add the paths above/,
    );
  });

  it('warn mode exports, reports each column without its values, and records the mode and the columns', async () => {
    const notices: string[] = [];
    const { snapshotId } = await exportSnapshot({
      databaseUrl: source.url,
      store,
      env,
      config: { anonymise: { mode: 'warn' } },
      reporter: { report: (event) => event.type === 'notice' && notices.push(event.message) },
    });
    expect(notices).toContainEqual(
      "anonymise mode 'warn': exporting public.customers.first_name as it is although name looks like a first name (fix: 'public.customers.first_name': fake('person.firstName'),)",
    );
    expect(notices.join('\n')).not.toMatch(/qzx|Qzx/);
    const manifest = await readManifest(store, snapshotId);
    expect(manifest.anonymisation).toMatchObject({
      mode: 'warn',
      secret: 'env',
      anonymisedColumns: 0,
      keptColumns: 0,
    });
    expect(manifest.anonymisation?.unresolved).toHaveLength(18);
    expect(
      manifest.tables.find((t) => t.name === 'customers')?.columns.find((c) => c.name === 'email')?.treatment,
    ).toEqual({
      action: 'exported',
      personal: true,
      classifier: ['name looks like an email address', '60 of 60 sampled values look like an email address'],
      // Every value was checked as it was written, and the manifest says what was found.
      verified: { values: 60, hits: { email: 60 } },
    });
    expect(manifest.anonymisation).toMatchObject({
      verification: 'every-value',
      relaxations: [{ setting: 'mode: warn', reason: null }],
    });
    expect(notices).toContainEqual(
      "anonymise mode 'warn': published 60 values of public.customers.email holding email (e.g. q***@l***.example)",
    );
    expect(firstSnapshot).not.toBe(snapshotId);
  });

  it('lists config problems with the other config problems: unknown columns, rules that do not fit, broken foreign keys', async () => {
    const error = await exportSnapshot({
      databaseUrl: source.url,
      store,
      env,
      config: {
        anonymise: {
          rules: {
            emial: fake('internet.email'),
            'public.customers.emali': fake('internet.email'),
            'public.custmers.email': fake('internet.email'),
            'public.customers.loyalty_points': fake('internet.email'),
            'public.customers.first_name': fake('person.frstName'),
            'public.orders.customer_email': hash(),
            'public.customers.is_staff': keep(''),
          },
        },
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toContain(
      'anonymise.rules.emial: no table has a column of that name (did you mean "email"?)',
    );
    expect(message).toContain(
      'anonymise.rules.public.customers.emali: public.customers has no column emali (did you mean "email"?)',
    );
    expect(message).toContain(
      'anonymise.rules.public.custmers.email: no table public.custmers (did you mean "public.customers"?)',
    );
    expect(message).toContain(
      'anonymise.rules.public.customers.loyalty_points (public.customers.loyalty_points): fake(internet.email) does not produce integers, but public.customers.loyalty_points is integer',
    );
    expect(message).toContain('fake(): no faker method person.frstName (did you mean "person.firstName"?)');
    expect(message).toMatch(
      /hash\(hex\) on public\.orders\.customer_email would break foreign key orders_customer_email_fkey, because public\.customers\.email is exported as it is/,
    );
    expect(message).toContain('keep() needs a reason');
  });
});
