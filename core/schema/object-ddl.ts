/**
 * CREATE statements for what lives beside the tables: extensions, collations, composite and range
 * types, views, triggers, rules, row-level security and comments. schema-ddl.ts puts them in order.
 */
import {
  type CollationInfo,
  type CommentInfo,
  type CompositeTypeInfo,
  type ExtensionInfo,
  type FiringState,
  type PolicyInfo,
  quoteIdent,
  quoteLiteral,
  quoteQualified,
  type RangeTypeInfo,
  type RuleInfo,
  type TableInfo,
  type TriggerInfo,
  type ViewInfo,
} from './schema-model.js';

/**
 * Creates the extensions, each after those it requires; the target installs its default version.
 * The import names every extension the target server lacks before running any of this.
 */
export function createExtensions(extensions: readonly ExtensionInfo[]): string[] {
  return extensionsInCreationOrder(extensions).map(
    (extension) =>
      `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(extension.name)} WITH SCHEMA ${quoteIdent(extension.schema)};`,
  );
}

function extensionsInCreationOrder(extensions: readonly ExtensionInfo[]): ExtensionInfo[] {
  const byName = new Map(extensions.map((extension) => [extension.name, extension]));
  const ordered: ExtensionInfo[] = [];
  const visited = new Set<string>();
  const visit = (extension: ExtensionInfo) => {
    if (visited.has(extension.name)) return;
    visited.add(extension.name);
    for (const required of extension.requires) {
      const requiredExtension = byName.get(required);
      if (requiredExtension) visit(requiredExtension);
    }
    ordered.push(extension);
  };
  for (const extension of extensions) visit(extension);
  return ordered;
}

export function createCollation(collation: CollationInfo): string {
  const options = [`provider = ${collation.provider}`];
  if (collation.provider === 'libc') {
    if (collation.lcCollate !== null) options.push(`lc_collate = ${quoteLiteral(collation.lcCollate)}`);
    if (collation.lcCtype !== null) options.push(`lc_ctype = ${quoteLiteral(collation.lcCtype)}`);
  } else if (collation.locale !== null) {
    options.push(`locale = ${quoteLiteral(collation.locale)}`);
  }
  if (collation.rules !== null) options.push(`rules = ${quoteLiteral(collation.rules)}`);
  if (!collation.deterministic) options.push('deterministic = false');
  return `CREATE COLLATION IF NOT EXISTS ${quoteQualified(collation)} (${options.join(', ')});`;
}

export function createCompositeType(type: CompositeTypeInfo): string {
  const attributes = type.attributes.map(
    (attribute) =>
      `  ${quoteIdent(attribute.name)} ${attribute.dataType}${attribute.collation ? ` COLLATE ${attribute.collation}` : ''}`,
  );
  return `CREATE TYPE ${quoteQualified(type)} AS (${attributes.length ? `\n${attributes.join(',\n')}\n` : ''});`;
}

export function createRangeType(type: RangeTypeInfo): string {
  const options = [`subtype = ${type.subtype}`];
  if (type.subtypeOpclass !== null) options.push(`subtype_opclass = ${type.subtypeOpclass}`);
  if (type.collation !== null) options.push(`collation = ${type.collation}`);
  if (type.canonical !== null) options.push(`canonical = ${functionName(type.canonical)}`);
  if (type.subtypeDiff !== null) options.push(`subtype_diff = ${functionName(type.subtypeDiff)}`);
  if (type.multirangeName !== null) options.push(`multirange_type_name = ${type.multirangeName}`);
  return `CREATE TYPE ${quoteQualified(type)} AS RANGE (\n  ${options.join(',\n  ')}\n);`;
}

/** The (qualified) name part of a regprocedure signature: `public."f(x)"(integer)` → `public."f(x)"`. */
function functionName(signature: string): string {
  let quoted = false;
  for (let i = 0; i < signature.length; i++) {
    const char = signature[i];
    if (char === '"') quoted = !quoted;
    else if (char === '(' && !quoted) return signature.slice(0, i);
  }
  return signature;
}

/**
 * A materialized view is created empty; writeSchemaDdl refreshes it once the data is in. Like
 * functions, aggregates and collations, a plain view replaces one a `drop-tables` reset left
 * behind (it drops tables, and what depends on them, only).
 */
export function createView(view: ViewInfo): string {
  const options = view.options.length
    ? ` WITH (${view.options.map((option) => reloption(option)).join(', ')})`
    : '';
  const what = view.materialized ? 'MATERIALIZED VIEW' : 'OR REPLACE VIEW';
  return `CREATE ${what} ${quoteQualified(view)}${options} AS\n${view.query}${view.materialized ? '\n  WITH NO DATA' : ''};`;
}

/** `name=value` as stored in reloptions, with the value quoted so any value parses. */
function reloption(option: string): string {
  const equals = option.indexOf('=');
  return equals < 0 ? option : `${option.slice(0, equals)}=${quoteLiteral(option.slice(equals + 1))}`;
}

const FIRING_CLAUSE: Readonly<Record<FiringState, string | null>> = {
  origin: null,
  disabled: 'DISABLE',
  replica: 'ENABLE REPLICA',
  always: 'ENABLE ALWAYS',
};

/**
 * A trigger is created after the data, so it never fires while COPY loads rows; a trigger the
 * source had disabled (or firing only on replicas) keeps that state.
 */
export function createTrigger(trigger: TriggerInfo): string[] {
  const state = FIRING_CLAUSE[trigger.enabled];
  // On a partitioned table the state recurses to the partitions' clones, as on the source.
  const alter = `ALTER TABLE ${trigger.clone ? 'ONLY ' : ''}${quoteQualified(trigger.table)}`;
  return [
    ...(trigger.clone ? [] : [`${trigger.definition};`]),
    ...(state ? [`${alter} ${state} TRIGGER ${quoteIdent(trigger.name)};`] : []),
  ];
}

export function createRule(rule: RuleInfo): string[] {
  const state = FIRING_CLAUSE[rule.enabled];
  return [
    `${rule.definition};`,
    ...(state ? [`ALTER TABLE ${quoteQualified(rule.table)} ${state} RULE ${quoteIdent(rule.name)};`] : []),
  ];
}

/** ONLY keeps a key on an inheritance parent off its children; a partitioned table needs it to recurse. */
export function alterTable(table: TableInfo): string {
  return `ALTER TABLE ${table.kind === 'partitioned' ? '' : 'ONLY '}${quoteQualified(table)}`;
}

export function enableRowSecurity(table: TableInfo): string[] {
  if (table.rowSecurity === 'off') return [];
  const alter = alterTable(table);
  return [
    `${alter} ENABLE ROW LEVEL SECURITY;`,
    ...(table.rowSecurity === 'forced' ? [`${alter} FORCE ROW LEVEL SECURITY;`] : []),
  ];
}

/**
 * A policy names production's roles as they are; the import applies it to those of them the
 * target has, and to PUBLIC when it has none (schema-script-runner.ts), so that a FORCEd policy
 * still filters the developer's own queries the way it filters the application's.
 */
export function createPolicy(policy: PolicyInfo): string {
  const roles = policy.roles.length === 0 ? 'PUBLIC' : policy.roles.map(quoteIdent).join(', ');
  const tail = [
    ...(policy.using === null ? [] : [`USING (${policy.using})`]),
    ...(policy.withCheck === null ? [] : [`WITH CHECK (${policy.withCheck})`]),
  ].join(' ');
  return `CREATE POLICY ${quoteIdent(policy.name)} ON ${quoteQualified(policy.table)} AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${policy.command} TO ${roles}${tail ? ` ${tail}` : ''};`;
}

export function createComment(comment: CommentInfo): string {
  return `COMMENT ON ${comment.target} IS ${quoteLiteral(comment.text)};`;
}
