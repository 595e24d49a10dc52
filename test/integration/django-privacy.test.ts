import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DJANGO_DEVELOPMENT_PASSWORD_HASH } from '../../strategies/index.js';
import { initConfigFile, runDevsnap, runInit } from '../support/cli-harness.js';
import { dropDatabase, serverUrl, type TestDatabase, uniqueDatabaseName } from '../support/databases.js';
import { createDjangoDatabase, djangoPython, seededPersonalValues } from '../support/django-app.js';
import { type TemporaryStore, temporaryStore } from '../support/fingerprints.js';
import { scanSnapshot } from '../support/personal-value-scan.js';
import { snapshotRows } from '../support/snapshot-values.js';

const env = { DEVSNAP_SECRET: randomBytes(32).toString('base64') };

describe('Django: init, then an export with its config unchanged, leaks nothing, and Django works on the import', () => {
  let source: TestDatabase;
  let store: TemporaryStore;
  let config: Awaited<ReturnType<typeof initConfigFile>>;
  let snapshotId: string;
  let target: string;

  beforeAll(async () => {
    source = await createDjangoDatabase();
    await source.client.query('ANALYZE');
    store = await temporaryStore();
    config = await initConfigFile('test-django');
    target = uniqueDatabaseName('django_dev');
  });
  afterAll(async () => {
    await source.drop();
    await store.remove();
    await config.remove();
    await dropDatabase(target);
  });

  it('init recognises Django and writes its presets, each with a comment', async () => {
    const { code, frameworks, text } = await runInit(source.url, config.path);
    expect(code).toBe(0);
    expect(frameworks).toEqual([
      { framework: 'Django', evidence: 'tables public.django_migrations and public.django_content_type' },
    ]);
    expect(text).toContain("'public.auth_user.password': developmentPassword('django'),");
    expect(text).toContain(
      "'public.auth_user.username': keepIf((row) => ['AnonymousUser'].includes(row.username ?? ''), fake('internet.username'), { name: 'service accounts' }),",
    );
    expect(text).toMatch(/'public\.django_session': \[none\(\)\], \/\/ ~600 rows; sessions: /);
    expect(text).toContain("'public.django_admin_log.object_repr': scrub(),");
    expect(text).toContain("'public.django_admin_log.change_message': scrub(),");
    expect(text).toContain(
      "'public.reversion_version.serialized_data': djangoSerialized({ unknown: scrub() }),",
    );
    expect(text).toContain("'public.reversion_version.object_repr': scrub(),");
    expect(text).toContain("'public.reversion_revision.comment': scrub(),");
    expect(text).toContain("// Django: after an import every account's password is 'devsnap'");
    // The phone column's values name their regions; UK and Irish national numbers then count.
    expect(text).toMatch(
      /\/\/ {3}public\.shop_profile\.phone: GB \d+%, [A-Z]{2} \d+%, [A-Z]{2} \d+% of 300 values/,
    );
    expect(text).toContain("    phoneRegions: ['GB', 'IE', 'NL'],");
    // Usernames in @mentions and first names in comments are the users table's own values.
    expect(text).toMatch(/\/\/ public\.shop_comment\.text: \d+ of 9000 sampled values contain a username/);
    expect(text).toContain("'public.shop_comment.text': scrub(),");
  });

  it('export with that config, unchanged: no seeded personal value of any kind in any decoded cell, no session rows, revisions carry the live rows’ fakes', async () => {
    const run = await runDevsnap(
      ['export', '--database-url', source.url, '--store', store.location, '--config', config.path, '--json'],
      { env },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    snapshotId = JSON.parse(run.stdout).snapshotId;

    const seeded = await seededPersonalValues();
    const { rows: hashes } = await source.client.query<{ password: string }>(
      'SELECT DISTINCT password FROM auth_user',
    );
    const scan = await scanSnapshot(store, snapshotId, {
      anywhere: [...seeded.emails, ...hashes.map((row) => row.password), ...seeded.phones],
      inPlace: [
        ...seeded.fullNames,
        ...seeded.usernames,
        ...seeded.streets,
        ...seeded.cities,
        ...seeded.postcodes,
      ],
      // A first or last name alone counts where the written text has it between the same words as
      // the source (`Thanks Mia!`), not where another name's fake happens to be it.
      inContext: [...seeded.firstNames, ...seeded.lastNames],
      source: source.client,
    });
    expect(scan.cells).toBeGreaterThan(100_000);
    expect(scan.leaks).toEqual({});
    expect(await snapshotRows(store, snapshotId, 'public.django_session')).toEqual([]);

    // A revision holds what the live row held then: where the order has not changed since, the
    // anonymised revision holds exactly the anonymised row (djangoSerialized applied the table's rules).
    const { rows: unchanged } = await source.client.query<{ version: string; order: string }>(
      `SELECT v.id AS version, o.id AS order FROM reversion_version v
         JOIN django_content_type t ON t.id = v.content_type_id AND t.app_label = 'shop' AND t.model = 'order'
         JOIN shop_order o ON o.id::text = v.object_id
        WHERE (v.serialized_data::jsonb -> 0 -> 'fields' -> 'shipping') = o.shipping::jsonb
          AND (v.serialized_data::jsonb -> 0 -> 'fields' ->> 'notes') = o.notes`,
    );
    expect(unchanged.length).toBeGreaterThan(100);
    const versions = new Map(
      (await snapshotRows(store, snapshotId, 'public.reversion_version')).map((row) => [row.id, row]),
    );
    const orders = new Map(
      (await snapshotRows(store, snapshotId, 'public.shop_order')).map((row) => [row.id, row]),
    );
    const mismatches = unchanged.filter(({ version, order }) => {
      const fields = JSON.parse(versions.get(String(version))?.serialized_data ?? '[]')[0]?.fields;
      const live = orders.get(String(order));
      return (
        !live ||
        canonical(fields?.shipping) !== canonical(JSON.parse(live.shipping ?? 'null')) ||
        fields?.notes !== live.notes ||
        String(fields?.customer) !== live.customer_id
      );
    });
    expect(mismatches).toEqual([]);
  });

  it('Django works on the import: sign in with the development password, revert() a revision, guardian’s anonymous user', async () => {
    const url = serverUrl(target);
    const imported = await runDevsnap(
      ['import', snapshotId, '--store', store.location, '--database-url', url, '--yes', '--json'],
      { env },
    );
    expect(imported.stderr).toBe('');
    expect(imported.code, imported.stdout).toBe(0);

    const signIn = await djangoPython(
      url,
      [
        'from django.contrib.auth import authenticate',
        'from django.contrib.auth.models import User',
        "staff = User.objects.filter(is_staff=True).exclude(username='AnonymousUser').order_by('id').first()",
        "customer = User.objects.filter(is_staff=False).exclude(username='AnonymousUser').order_by('id').first()",
        "print(staff.password == customer.password, authenticate(username=staff.username, password='devsnap') == staff, authenticate(username=customer.username, password='devsnap') == customer, authenticate(username=staff.username, password='staff-password-2024'))",
      ].join('\n'),
    );
    expect(signIn.trim()).toBe('True True True None');
    const { rows } = await source.client.query<{ password: string }>(
      "SELECT password FROM auth_user WHERE username <> 'AnonymousUser' LIMIT 1",
    );
    expect(rows[0]?.password).not.toBe(DJANGO_DEVELOPMENT_PASSWORD_HASH);

    const reverted = await djangoPython(
      url,
      [
        'from reversion.models import Version',
        'from shop.models import Order, Post',
        'def live_version(model):',
        '    for version in Version.objects.get_for_model(model).order_by("id"):',
        '        if model.objects.filter(pk=version.object_id).exists():',
        '            return version',
        'version = live_version(Post)',
        'post = Post.objects.get(pk=version.object_id)',
        'Post.objects.filter(pk=post.pk).update(title="edited in development")',
        'version.revision.revert()',
        'post.refresh_from_db()',
        'print(post.title == version.field_dict["title"], post.author_id == version.field_dict["author_id"])',
        'version = live_version(Order)',
        'version.revision.revert(delete=True)',
        'order = Order.objects.get(pk=version.object_id)',
        'print(order.shipping == version.field_dict["shipping"], order.customer.username != "")',
      ].join('\n'),
    );
    expect(reverted.trim()).toBe('True True\nTrue True');

    const anonymous = await djangoPython(
      url,
      'from guardian.utils import get_anonymous_user\nprint(get_anonymous_user().username)',
    );
    expect(anonymous.trim()).toBe('AnonymousUser');
  });
});

/** JSON with sorted keys: jsonb orders keys its own way, Django's serializer keeps the model's. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}
