/**
 * The scenario on a real Django application: 50 random users plus all staff, the latest
 * 100 posts, every other table by default — with nothing declared about generic relations.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevsnapConfig } from '../../core/config/devsnap-config.js';
import { planExport } from '../../core/subset/plan-export.js';
import type { SubsetPlan } from '../../core/subset/subset-plan.js';
import { latest, randomSample, where } from '../../strategies/index.js';
import { runDevsnap } from '../support/cli-harness.js';
import type { TestDatabase } from '../support/databases.js';
import { createDjangoDatabase, djangoPython, manage } from '../support/django-app.js';
import { exportAndImport, type RoundTrip } from '../support/export-and-import.js';

const CONFIG: DevsnapConfig = {
  tables: {
    'public.auth_user': [randomSample({ count: 50, seed: 11 }), where('t.is_staff', [], { name: 'staff' })],
    'public.shop_post': [latest(100, { orderBy: '-published_at' })],
  },
  // Personal data is issue 10's concern; this test is about the subset.
  anonymise: { mode: 'warn' },
};

/** Rows of every generic relation whose object is missing, counted by Django itself. */
const DANGLING = `
import json
from django.contrib.admin.models import LogEntry
from guardian.models import UserObjectPermission, GroupObjectPermission
from reversion.models import Version
from taggit.models import TaggedItem
from django.contrib.contenttypes.models import ContentType

def missing(rows, content_type, object_id):
    # One query per content type: the objects of each that exist, by primary key as text.
    wanted = {}
    for ct_id, pk in rows.values_list(content_type + '_id', object_id):
        wanted.setdefault(ct_id, []).append(str(pk))
    count = 0
    for ct_id, pks in wanted.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None:
            count += len(pks)
            continue
        field = model._meta.pk
        keys = {field.to_python(pk) for pk in pks}
        found = {str(pk) for pk in model._default_manager.filter(pk__in=keys).values_list('pk', flat=True)}
        count += sum(pk not in found for pk in pks)
    return count

print(json.dumps({
    'admin_log': missing(LogEntry.objects.exclude(object_id=None), 'content_type', 'object_id'),
    'guardian_user': missing(UserObjectPermission.objects.all(), 'content_type', 'object_pk'),
    'guardian_group': missing(GroupObjectPermission.objects.all(), 'content_type', 'object_pk'),
    'reversion': missing(Version.objects.all(), 'content_type', 'object_id'),
    'taggit': missing(TaggedItem.objects.all(), 'content_type', 'object_id'),
    'rows': [LogEntry.objects.count(), UserObjectPermission.objects.count(), Version.objects.count(), TaggedItem.objects.count()],
}))`;

const CREATE_ROWS = `
import json
from django.contrib.auth.models import User
from shop.models import Post, Comment
from django.utils import timezone
user = User.objects.create_user('new-dev-user', 'dev@example.test', 'pw')
post = Post.objects.create(author=user, title='new', body='new', published_at=timezone.now())
comment = Comment.objects.create(post=post, author=user, text='hi', created_at=timezone.now())
post.tags.add('fresh')
print(json.dumps({'user': user.pk, 'post': post.pk, 'comment': comment.pk}))`;

describe('a Django application: limits after restriction and generic relations', () => {
  let source: TestDatabase;
  let roundTrip: RoundTrip;
  let plan: SubsetPlan;

  beforeAll(async () => {
    source = await createDjangoDatabase();
    plan = await planExport({ databaseUrl: source.url, config: CONFIG });
    roundTrip = await exportAndImport(source, { config: CONFIG, targetPrefix: 'django_subset_dst' });
  }, 600_000);
  afterAll(async () => {
    await roundTrip?.remove();
    await source?.drop();
  });

  const count = async (db: TestDatabase, sql: string) =>
    Number((await db.client.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) q`)).rows[0]?.n);

  it('50 random users plus staff, and exactly the latest 100 posts among theirs', async () => {
    const target = roundTrip.target;
    const staff = await count(source, 'SELECT 1 FROM auth_user WHERE is_staff');
    const users = await count(target, 'SELECT 1 FROM auth_user');
    expect(users).toBeGreaterThanOrEqual(50);
    expect(users).toBeLessThanOrEqual(50 + staff);
    expect(await count(target, 'SELECT 1 FROM auth_user WHERE is_staff')).toBe(staff);
    expect(await count(target, 'SELECT 1 FROM shop_post')).toBe(100);
    const { rows } = await target.client.query<{ id: number }>('SELECT id FROM shop_post ORDER BY id');
    const authors = (await target.client.query<{ id: number }>('SELECT id FROM auth_user')).rows.map(
      (r) => r.id,
    );
    const expected = await source.client.query<{ id: number }>(
      `SELECT id FROM (SELECT id FROM shop_post WHERE author_id = ANY($1::int[]) ORDER BY published_at DESC, id LIMIT 100) p ORDER BY id`,
      [authors],
    );
    expect(rows).toEqual(expected.rows);
  });

  it('has 0 rows violating a foreign key: every constraint was validated by the import', async () => {
    const { rows } = await roundTrip.target.client.query<{ total: string; validated: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE convalidated) AS validated
       FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
    );
    expect(Number(rows[0]?.total)).toBeGreaterThan(10);
    expect(rows[0]?.validated).toBe(rows[0]?.total);
  });

  it('leaves 0 dangling generic relations (admin log, guardian, reversion, taggit) with nothing in the config', async () => {
    const before = JSON.parse(await djangoPython(source.url, DANGLING)) as Record<string, number>;
    // The source has loose ends of its own (deleted posts): the subset must not carry them.
    expect(before.reversion).toBeGreaterThan(0);
    const after = JSON.parse(await djangoPython(roundTrip.target.url, DANGLING)) as Record<string, unknown>;
    expect(after).toMatchObject({
      admin_log: 0,
      guardian_user: 0,
      guardian_group: 0,
      reversion: 0,
      taggit: 0,
    });
    // Not vacuous: generic rows of exported objects are there.
    expect((after.rows as number[]).every((n) => n > 0)).toBe(true);
  });

  it('shows the detected generic relations in the plan', () => {
    const log = plan.tables.find((t) => t.table === 'public.django_admin_log');
    const generic = log?.foreignKeys.filter((key) => key.virtual === 'django') ?? [];
    expect(generic.map((key) => key.references)).toContain('public.shop_post');
    expect(generic.every((key) => key.name.startsWith('public.django_admin_log.object_id->'))).toBe(true);
  });

  it('init lists the generic relations it detected, and relations.detect switches them off', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'devsnap-django-init-'));
    try {
      const out = join(directory, 'devsnap.config.ts');
      const run = await runDevsnap(['init', '--database-url', source.url, '--out', out, '--json']);
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout) as { relations: string[] };
      expect(result.relations).toEqual([
        'public.django_admin_log.object_id',
        'public.guardian_groupobjectpermission.object_pk',
        'public.guardian_userobjectpermission.object_pk',
        'public.reversion_version.object_id',
        'public.taggit_taggeditem.object_id',
      ]);
      expect(await readFile(out, 'utf8')).toMatch(
        /\/\/ {3}public\.django_admin_log\.object_id: Django generic relation by content_type_id, to \d+ tables/,
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
    const off = await planExport({
      databaseUrl: source.url,
      config: { ...CONFIG, relations: { detect: { django: false } } },
    });
    expect(off.tables.flatMap((t) => t.foreignKeys).filter((key) => key.virtual !== null)).toEqual([]);
  });

  it('migrate --plan has nothing to apply, and the ORM creates new rows without id collisions', async () => {
    const planned = await manage(roundTrip.target.url, ['migrate', '--plan']);
    expect(planned.exitCode).toBe(0);
    expect(planned.stdout.trim()).toBe('Planned operations:\n  No planned migration operations.');
    const created = JSON.parse(await djangoPython(roundTrip.target.url, CREATE_ROWS)) as Record<
      string,
      number
    >;
    const max = async (table: string) =>
      Number((await source.client.query<{ m: string }>(`SELECT max(id) AS m FROM ${table}`)).rows[0]?.m);
    expect(created.user).toBeGreaterThan(await max('auth_user'));
    expect(created.post).toBeGreaterThan(await max('shop_post'));
    expect(created.comment).toBeGreaterThan(await max('shop_comment'));
  });
});
