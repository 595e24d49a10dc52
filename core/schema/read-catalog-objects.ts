import type { Row, SqlParameter } from '../source/queryable.js';
import {
  AGGREGATES_QUERY,
  type AggregateRow,
  COLLATIONS_QUERY,
  COMMENTS_QUERY,
  COMPOSITE_TYPES_QUERY,
  type CollationRow,
  type CommentRow,
  type CompositeTypeRow,
  type DefinitionChunkRow,
  definitionChunksQuery,
  EXTENSIONS_QUERY,
  type ExtensionRow,
  FUNCTIONS_QUERY,
  type FunctionRow,
  POLICIES_QUERY,
  type PolicyRow,
  RANGE_TYPES_QUERY,
  type RangeTypeRow,
  RULES_QUERY,
  type RuleRow,
  TRIGGERS_QUERY,
  type TriggerRow,
  VIEWS_QUERY,
  type ViewRow,
} from './catalog-object-queries.js';
import { byQualifiedName, compareText, freeze, groupBy, parseJson } from './catalog-rows.js';
import {
  type CollationInfo,
  type CommentInfo,
  type CompositeTypeInfo,
  type ExtensionInfo,
  type FiringState,
  type FunctionInfo,
  type ObjectRef,
  type PolicyInfo,
  quoteIdent,
  quoteLiteral,
  type RangeTypeInfo,
  type RuleInfo,
  type TriggerInfo,
  type ViewInfo,
} from './schema-model.js';

/** Runs one catalog query (with the session settings) and names it in errors. */
export type CatalogQueryRunner = <R extends Row>(
  what: string,
  sql: string,
  params?: readonly SqlParameter[],
) => Promise<R[]>;

/** Everything but tables, sequences, enums and domains, as read by readCatalogObjects. */
export interface CatalogObjects {
  readonly extensions: readonly ExtensionInfo[];
  readonly collations: readonly CollationInfo[];
  readonly compositeTypes: readonly CompositeTypeInfo[];
  readonly rangeTypes: readonly RangeTypeInfo[];
  readonly functions: readonly FunctionInfo[];
  /** Views and materialized views, without their indexes (those come with the table indexes). */
  readonly views: readonly Omit<ViewInfo, 'indexes'>[];
  /** oid of each view, to attach its indexes. */
  readonly viewOids: ReadonlyMap<Omit<ViewInfo, 'indexes'>, string>;
  readonly triggers: readonly TriggerInfo[];
  readonly rules: readonly RuleInfo[];
  readonly policies: readonly PolicyInfo[];
  readonly comments: readonly CommentInfo[];
}

/**
 * Bytes of definitions read per call: the RDS Data API answers at most 1 MiB per call, and a
 * long function or view definition is read in chunks of a few thousand characters.
 */
const DEFINITION_PAGE_BYTES = 512 * 1024;

/** Reads, one query at a time, the objects that live beside the tables. */
export async function readCatalogObjects(run: CatalogQueryRunner): Promise<CatalogObjects> {
  const extensions = (await run<ExtensionRow>('extensions', EXTENSIONS_QUERY)).map(toExtension);
  const collations = (await run<CollationRow>('collations', COLLATIONS_QUERY)).map(toCollation);
  const compositeTypes = (await run<CompositeTypeRow>('composite types', COMPOSITE_TYPES_QUERY)).map(
    (row): CompositeTypeInfo =>
      freeze({
        schema: row.schema,
        name: row.name,
        attributes: freeze(
          (parseJson<CompositeTypeInfo['attributes'][number][]>(row.attributes) ?? []).map(freeze),
        ),
      }),
  );
  const rangeTypes = (await run<RangeTypeRow>('range types', RANGE_TYPES_QUERY)).map(toRangeType);

  const functionRows = await run<FunctionRow>('functions', FUNCTIONS_QUERY);
  const functionDefinitions = await readDefinitions(run, 'pg_get_functiondef', functionRows);
  const aggregateRows = await run<AggregateRow>('aggregates', AGGREGATES_QUERY);
  const functions = [
    ...functionRows.map(
      (row): FunctionInfo =>
        freeze({
          schema: row.schema,
          name: row.name,
          kind: row.kind === 'p' ? 'procedure' : 'function',
          identityArguments: row.identity_arguments,
          signature: row.signature,
          definition: (functionDefinitions.get(row.oid) ?? '').trimEnd(),
          dependsOn: dependsOn(row.depends_on),
        }),
    ),
    ...aggregateRows.map(
      (row): FunctionInfo =>
        freeze({
          schema: row.schema,
          name: row.name,
          kind: 'aggregate',
          identityArguments: row.identity_arguments,
          signature: row.signature,
          definition: aggregateDefinition(row),
          dependsOn: dependsOn(row.depends_on),
        }),
    ),
  ];

  const viewRows = await run<ViewRow>('views', VIEWS_QUERY);
  const viewDefinitions = await readDefinitions(run, 'pg_get_viewdef', viewRows);
  const viewOids = new Map<Omit<ViewInfo, 'indexes'>, string>();
  const views = viewRows.map((row) => {
    const view: Omit<ViewInfo, 'indexes'> = freeze({
      schema: row.schema,
      name: row.name,
      materialized: row.materialized,
      query: withoutSemicolon(viewDefinitions.get(row.oid) ?? ''),
      options: freeze(parseJson<string[]>(row.options) ?? []),
      populated: row.materialized && row.populated,
      dependsOn: dependsOn(row.depends_on),
    });
    viewOids.set(view, row.oid);
    return view;
  });

  const triggers = (await run<TriggerRow>('triggers', TRIGGERS_QUERY)).map(
    (row): TriggerInfo =>
      freeze({
        table: freeze({ schema: row.schema, name: row.table_name }),
        name: row.name,
        definition: row.definition,
        enabled: firingState(row.enabled),
        ...(row.clone ? { clone: true as const } : {}),
      }),
  );
  const rules = (await run<RuleRow>('rules', RULES_QUERY)).map(
    (row): RuleInfo =>
      freeze({
        table: freeze({ schema: row.schema, name: row.table_name }),
        name: row.name,
        definition: withoutSemicolon(row.definition),
        enabled: firingState(row.enabled),
      }),
  );
  const policies = (await run<PolicyRow>('policies', POLICIES_QUERY)).map(toPolicy);
  const comments = (await run<CommentRow>('comments', COMMENTS_QUERY)).map(
    (row): CommentInfo => freeze({ target: row.target, text: row.text }),
  );

  return {
    extensions: extensions.sort((a, b) => compareText(a.name, b.name)),
    collations: collations.sort(byQualifiedName),
    compositeTypes: compositeTypes.sort(byQualifiedName),
    rangeTypes: rangeTypes.sort(byQualifiedName),
    functions: functions.sort(
      (a, b) => byQualifiedName(a, b) || compareText(a.identityArguments, b.identityArguments),
    ),
    views: views.sort(byQualifiedName),
    viewOids,
    triggers: triggers.sort(byTableAndName),
    rules: rules.sort(byTableAndName),
    policies: policies.sort(byTableAndName),
    comments: comments.sort((a, b) => compareText(a.target, b.target)),
  };
}

/** Definitions by oid, read in pages of at most DEFINITION_PAGE_BYTES. */
async function readDefinitions(
  run: CatalogQueryRunner,
  deparse: 'pg_get_functiondef' | 'pg_get_viewdef',
  objects: readonly { readonly oid: string; readonly definition_bytes: number }[],
): Promise<Map<string, string>> {
  const pages: string[][] = [];
  let page: string[] = [];
  let bytes = 0;
  for (const object of objects) {
    if (page.length > 0 && bytes + object.definition_bytes > DEFINITION_PAGE_BYTES) {
      pages.push(page);
      page = [];
      bytes = 0;
    }
    page.push(object.oid);
    bytes += object.definition_bytes;
  }
  if (page.length > 0) pages.push(page);

  const pageRows: DefinitionChunkRow[][] = [];
  for (const oids of pages) {
    pageRows.push(
      await run<DefinitionChunkRow>(`${deparse} definitions`, definitionChunksQuery(deparse), [
        JSON.stringify(oids),
      ]),
    );
  }
  return new Map(
    [...groupBy(pageRows.flat(), (row) => row.oid)].map(([oid, parts]) => [
      oid,
      parts
        .sort((a, b) => a.chunk - b.chunk)
        .map((part) => part.text)
        .join(''),
    ]),
  );
}

function toExtension(row: ExtensionRow): ExtensionInfo {
  return freeze({
    name: row.name,
    schema: row.schema,
    version: row.version,
    requires: freeze(parseJson<string[]>(row.requires) ?? []),
  });
}

const COLLATION_PROVIDERS: Readonly<Record<string, CollationInfo['provider']>> = {
  c: 'libc',
  i: 'icu',
  b: 'builtin',
};

function toCollation(row: CollationRow): CollationInfo {
  return freeze({
    schema: row.schema,
    name: row.name,
    provider: COLLATION_PROVIDERS[row.provider] ?? 'libc',
    deterministic: row.deterministic,
    lcCollate: row.lc_collate,
    lcCtype: row.lc_ctype,
    locale: row.locale,
    rules: row.rules,
  });
}

function toRangeType(row: RangeTypeRow): RangeTypeInfo {
  return freeze({
    schema: row.schema,
    name: row.name,
    subtype: row.subtype,
    subtypeOpclass: row.subtype_opclass,
    collation: row.collation,
    canonical: row.canonical,
    subtypeDiff: row.subtype_diff,
    multirangeName: row.multirange_name,
  });
}

const POLICY_COMMANDS: Readonly<Record<string, PolicyInfo['command']>> = {
  '*': 'ALL',
  r: 'SELECT',
  a: 'INSERT',
  w: 'UPDATE',
  d: 'DELETE',
};

function toPolicy(row: PolicyRow): PolicyInfo {
  return freeze({
    table: freeze({ schema: row.schema, name: row.table_name }),
    name: row.name,
    permissive: row.permissive,
    command: POLICY_COMMANDS[row.command] ?? 'ALL',
    roles: freeze(parseJson<string[]>(row.roles) ?? []),
    using: row.using,
    withCheck: row.with_check,
  });
}

const FIRING_STATES: Readonly<Record<string, FiringState>> = {
  O: 'origin',
  D: 'disabled',
  R: 'replica',
  A: 'always',
};

function firingState(code: string): FiringState {
  return FIRING_STATES[code] ?? 'origin';
}

const FINAL_MODIFY: Readonly<Record<string, string>> = {
  r: 'READ_ONLY',
  s: 'SHAREABLE',
  w: 'READ_WRITE',
};

/** CREATE AGGREGATE with every option that differs from its default, the way pg_dump writes it. */
function aggregateDefinition(row: AggregateRow): string {
  const options: string[] = [`SFUNC = ${row.transition}`, `STYPE = ${row.state_type}`];
  if (row.state_space !== 0) options.push(`SSPACE = ${row.state_space}`);
  if (row.final !== null) {
    options.push(`FINALFUNC = ${row.final}`);
    if (row.final_extra) options.push('FINALFUNC_EXTRA');
    options.push(`FINALFUNC_MODIFY = ${FINAL_MODIFY[row.final_modify] ?? 'READ_ONLY'}`);
  }
  if (row.combine !== null) options.push(`COMBINEFUNC = ${row.combine}`);
  if (row.serial !== null) options.push(`SERIALFUNC = ${row.serial}`);
  if (row.deserial !== null) options.push(`DESERIALFUNC = ${row.deserial}`);
  if (row.initial !== null) options.push(`INITCOND = ${quoteLiteral(row.initial)}`);
  if (row.moving_transition !== null) {
    options.push(`MSFUNC = ${row.moving_transition}`);
    if (row.moving_inverse !== null) options.push(`MINVFUNC = ${row.moving_inverse}`);
    if (row.moving_state_type !== null) options.push(`MSTYPE = ${row.moving_state_type}`);
    if (row.moving_state_space !== 0) options.push(`MSSPACE = ${row.moving_state_space}`);
    if (row.moving_final !== null) {
      options.push(`MFINALFUNC = ${row.moving_final}`);
      if (row.moving_final_extra) options.push('MFINALFUNC_EXTRA');
      options.push(`MFINALFUNC_MODIFY = ${FINAL_MODIFY[row.moving_final_modify] ?? 'READ_ONLY'}`);
    }
    if (row.moving_initial !== null) options.push(`MINITCOND = ${quoteLiteral(row.moving_initial)}`);
  }
  if (row.sort_operator !== null) options.push(`SORTOP = ${row.sort_operator}`);
  if (row.parallel === 's') options.push('PARALLEL = SAFE');
  if (row.parallel === 'r') options.push('PARALLEL = RESTRICTED');
  if (row.kind === 'h') options.push('HYPOTHETICAL');
  const args = row.arguments === '' && row.kind === 'n' ? '*' : row.arguments;
  return `CREATE OR REPLACE AGGREGATE ${quoteIdent(row.schema)}.${quoteIdent(row.name)}(${args}) (\n    ${options.join(',\n    ')}\n)`;
}

function dependsOn(json: string | null): readonly ObjectRef[] {
  const refs = parseJson<ObjectRef[]>(json) ?? [];
  return freeze(
    refs
      .map((ref) => freeze({ kind: ref.kind, schema: ref.schema, name: ref.name }))
      .sort(
        (a, b) =>
          compareText(a.kind, b.kind) || compareText(a.schema, b.schema) || compareText(a.name, b.name),
      ),
  );
}

function withoutSemicolon(definition: string): string {
  return definition.trimEnd().replace(/;$/, '');
}

function byTableAndName(
  a: { table: { schema: string; name: string }; name: string },
  b: { table: { schema: string; name: string }; name: string },
): number {
  return byQualifiedName(a.table, b.table) || compareText(a.name, b.name);
}
