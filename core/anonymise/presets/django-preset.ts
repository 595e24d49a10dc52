import { qualifiedName } from '../../schema/schema-model.js';
import { djangoModelTable } from '../django-models.js';
import {
  exportedTables,
  type FrameworkPreset,
  hasColumn,
  type PresetContext,
  type PresetRule,
  presetColumn,
  schemaWith,
  tableNamed,
} from './framework-preset.js';

/** A value Django's password hashers wrote (`algorithm$…`), or an unusable password (`!…`). */
const DJANGO_PASSWORD =
  /^(?:pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|sha1|md5|unsalted_md5|unsalted_sha1|crypt)\$|^!/;

/**
 * Django (tables django_migrations and django_content_type): the rules a Django team keeps so the
 * imported database works with Django and carries no production secrets or personal text.
 */
export function djangoPreset(context: PresetContext): FrameworkPreset | null {
  const { model, classified } = context;
  const schema = schemaWith(model, 'django_migrations', 'django_content_type');
  if (schema === null) return null;
  const rules: PresetRule[] = [];
  const tables = exportedTables(model);
  const guardian = tables.some((table) => table.name === 'guardian_userobjectpermission');

  for (const table of tables) {
    if (!hasColumn(table, 'password')) continue;
    const key = presetColumn(table, 'password');
    const sample = classified.get(key)?.sample ?? [];
    // AbstractBaseUser has password and last_login; other password columns count when their
    // values are Django hashes.
    const userTable = hasColumn(table, 'last_login');
    if (!userTable && !sample.some((value) => value !== null && DJANGO_PASSWORD.test(value))) continue;
    rules.push({
      column: key,
      rule: "developmentPassword('django')",
      why: [
        "Django password hashes: after an import every account signs in with the password 'devsnap'",
        '(a fixed PBKDF2 hash; no production hash leaves). Unusable passwords (`!…`) stay unusable.',
      ],
    });
    if (userTable && hasColumn(table, 'username')) {
      rules.push(
        guardian
          ? {
              column: presetColumn(table, 'username'),
              rule: "keepIf((row) => ['AnonymousUser'].includes(row.username ?? ''), fake('internet.username'), { name: 'service accounts' })",
              why: [
                'Usernames are faked, except service accounts the code finds by name: django-guardian',
                "looks its anonymous user up by ANONYMOUS_USER_NAME ('AnonymousUser'). Add your own to the list.",
              ],
            }
          : {
              column: presetColumn(table, 'username'),
              rule: "fake('internet.username')",
              why: [
                'Usernames are faked (unique). Service accounts that code looks up by name can be kept:',
                "keepIf((row) => ['ci-bot'].includes(row.username ?? ''), fake('internet.username'))",
              ],
            },
      );
    }
  }

  const emptyTables = new Map<string, string>();
  const session = tableNamed(model, schema, 'django_session');
  if (session) {
    emptyTables.set(
      qualifiedName(session),
      'sessions: signed-in users and what they put in their sessions; exported with no rows',
    );
    if (hasColumn(session, 'session_data')) {
      rules.push({
        column: presetColumn(session, 'session_data'),
        rule: "constant('')",
        why: [
          'No session rows are exported (none() above); should some be, an empty value is a signed-out session.',
        ],
      });
    }
  }

  const scrubbed = (table: string, column: string, why: string) => {
    const found = tableNamed(model, schema, table);
    if (found && hasColumn(found, column))
      rules.push({ column: presetColumn(found, column), rule: 'scrub()', why: [why] });
  };
  scrubbed(
    'django_admin_log',
    'object_repr',
    "Admin log: str() of the changed object, often a person's name; scrub() replaces only the personal parts.",
  );
  scrubbed(
    'django_admin_log',
    'change_message',
    'Admin log: JSON or free text naming changed fields and related objects (their names too).',
  );

  const version = tableNamed(model, schema, 'reversion_version');
  if (version && hasColumn(version, 'serialized_data')) {
    const missing = (context.djangoContentTypes ?? []).filter(
      (label) => !djangoModelTable(model, label, schema),
    );
    rules.push({
      column: presetColumn(version, 'serialized_data'),
      rule: 'djangoSerialized({ unknown: scrub() })',
      why: [
        'django-reversion: each version is Django serializer JSON of one model instance; every field gets',
        "the rule of its model's table (the same fakes as the live rows), so revert() restores loadable rows.",
        ...(missing.length > 0
          ? [
              `No table named <app_label>_<model> for ${missing.join(', ')}: if one sets db_table, name it with`,
              "djangoSerialized({ models: { 'app.model': 'schema.table' }, … }); until then scrub() treats its fields as text.",
            ]
          : []),
      ],
    });
  }
  scrubbed(
    'reversion_version',
    'object_repr',
    "django-reversion: str() of the versioned object, often a person's name.",
  );
  scrubbed(
    'reversion_revision',
    'comment',
    'django-reversion: revision comments written by staff, naming people.',
  );

  return {
    framework: 'Django',
    evidence: `tables ${schema}.django_migrations and ${schema}.django_content_type`,
    rules,
    emptyTables,
    notes: [
      "Django: after an import every account's password is 'devsnap' (developmentPassword('django'));",
      'sign in with a username from the imported auth_user and that password.',
    ],
  };
}
