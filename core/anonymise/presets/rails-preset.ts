import { qualifiedName } from '../../schema/schema-model.js';
import {
  exportedTables,
  type FrameworkPreset,
  hasColumn,
  type PresetContext,
  type PresetRule,
  presetColumn,
  schemaWith,
} from './framework-preset.js';

/** Devise's column, and has_secure_password's. */
const PASSWORD_COLUMNS = ['encrypted_password', 'password_digest'];

/**
 * Rails (tables schema_migrations and ar_internal_metadata): development passwords for Devise and
 * has_secure_password, no session rows, and paper_trail versions anonymised with the rules of
 * the table of the record they hold.
 */
export function railsPreset(context: PresetContext): FrameworkPreset | null {
  const { model } = context;
  const schema = schemaWith(model, 'schema_migrations', 'ar_internal_metadata');
  if (schema === null) return null;
  const rules: PresetRule[] = [];
  const emptyTables = new Map<string, string>();
  for (const table of exportedTables(model)) {
    for (const column of PASSWORD_COLUMNS) {
      if (!hasColumn(table, column)) continue;
      rules.push({
        column: presetColumn(table, column),
        rule: "developmentPassword('bcrypt')",
        why: [
          'bcrypt password hashes (Devise, has_secure_password): after an import every account signs in with the',
          "password 'devsnap' (a fixed bcrypt hash; no production hash leaves). Empty values stay empty.",
        ],
      });
    }
    if (table.schema !== schema) continue;
    if (table.name === 'sessions' && hasColumn(table, 'session_id')) {
      emptyTables.set(qualifiedName(table), 'activerecord-session_store sessions; exported with no rows');
    }
    if (table.name === 'versions' && hasColumn(table, 'item_type')) {
      const item =
        'the rules of the table of its item_type (User → users), so reify() restores consistent records';
      if (hasColumn(table, 'object'))
        rules.push({
          column: presetColumn(table, 'object'),
          rule: 'paperTrail({ unknown: scrub() })',
          why: [`paper_trail: the record before the change (YAML or JSON); each attribute gets ${item}.`],
        });
      if (hasColumn(table, 'object_changes'))
        rules.push({
          column: presetColumn(table, 'object_changes'),
          rule: 'paperTrail({ changes: true, unknown: scrub() })',
          why: [`paper_trail: attribute → [before, after]; both get ${item}.`],
        });
    }
  }
  return {
    framework: 'Rails',
    evidence: `tables ${schema}.schema_migrations and ${schema}.ar_internal_metadata`,
    rules,
    emptyTables,
    notes: ["Rails: after an import every account's password is 'devsnap' (developmentPassword('bcrypt'))."],
  };
}
