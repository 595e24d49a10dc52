import {
  BODY_STATEMENTS,
  type BodyFindings,
  checkBodySql,
  checkPlpgsql,
  describe,
  sideEffectCalls,
} from './function-body-check.js';
import { CHECKED_LANGUAGES, hasServerSideEffects, isRefusedExtension } from './server-side-effects.js';
import { nameParts, nodeType, parseStatements, withoutLocations } from './sql-parser.js';

/** Which of the snapshot's three scripts a statement is in: each may hold different statements. */
export type SchemaScriptName = 'pre-data.sql' | 'post-data.sql' | 'drop.sql';

/** A statement of a schema script and what the import makes of it. */
export interface StatementVerdict {
  /** Why the import refuses it (not a schema statement, or a call with side effects). */
  readonly refused: readonly string[];
  /** What cannot be checked (EXECUTE, SECURITY DEFINER): allowed only from a signed snapshot. */
  readonly unchecked: readonly string[];
}

/**
 * Session settings a script may set, and the values allowed. Quoting and encoding are pinned: the
 * lexer devsnap checks with reads strings as the server does only with these two as they are.
 */
const SETTINGS: Readonly<Record<string, ((value: string) => boolean) | true>> = {
  client_encoding: (value) => /^utf-?8$/i.test(value),
  standard_conforming_strings: (value) => value === 'on',
  check_function_bodies: true,
  client_min_messages: true,
  datestyle: true,
  intervalstyle: true,
  search_path: (value) => value === '',
};

/** The one SELECT the scripts' header runs (as pg_dump writes it). */
const SEARCH_PATH_RESET = "SELECT pg_catalog.set_config('search_path', '', false)";
let searchPathReset: string | undefined;

const ALTER_TABLE_ACTIONS = new Set([
  'AT_AddConstraint',
  'AT_ColumnDefault',
  'AT_SetNotNull',
  'AT_DropNotNull',
  'AT_EnableRowSecurity',
  'AT_ForceRowSecurity',
  'AT_EnableTrig',
  'AT_DisableTrig',
  'AT_EnableAlwaysTrig',
  'AT_EnableReplicaTrig',
  'AT_EnableRule',
  'AT_DisableRule',
  'AT_EnableAlwaysRule',
  'AT_EnableReplicaRule',
  'AT_AttachPartition',
]);

const DROPPABLE = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_SEQUENCE',
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_AGGREGATE',
  'OBJECT_DOMAIN',
  'OBJECT_TYPE',
  'OBJECT_COLLATION',
]);

/** Statements that only create or describe objects inside the database; their expressions are checked. */
const CREATE_STATEMENTS = new Set([
  'CreateStmt',
  'CreateSeqStmt',
  'CreateEnumStmt',
  'CreateDomainStmt',
  'CompositeTypeStmt',
  'CreateRangeStmt',
  'IndexStmt',
  'ViewStmt',
  'CreateTrigStmt',
  'CreatePolicyStmt',
  'CommentStmt',
  'RefreshMatViewStmt',
]);

/**
 * Decides one statement of a schema script. Only what rebuilding a schema needs is allowed: creating
 * schemas, extensions, types, sequences, functions, tables, indexes, views, triggers, rules and
 * policies, adding constraints and comments, a few session settings — and in drop.sql, dropping
 * the snapshot's own kinds of object. Everything else (COPY, DO, ALTER SYSTEM, roles, grants,
 * ownership, LOAD, …) is refused, and so is any expression calling a function with server side
 * effects.
 */
export function checkSchemaStatement(
  stmt: unknown,
  text: string,
  script: SchemaScriptName,
): StatementVerdict {
  const [type, fields] = nodeType(stmt) ?? ['unknown', {}];
  const findings: BodyFindings = { refused: [], unchecked: [] };
  const refuse = (why: string) => findings.refused.push(why);
  if (script === 'drop.sql') {
    if (type === 'DropStmt' && DROPPABLE.has(String(fields.removeType)) && fields.missing_ok === true) {
      return findings;
    }
    if (type !== 'VariableSetStmt') {
      refuse(`${describe(type)} in drop.sql, which may only DROP … IF EXISTS the snapshot's objects`);
      return findings;
    }
  }
  switch (type) {
    case 'VariableSetStmt':
      checkSetting(fields, refuse);
      break;
    case 'SelectStmt':
      searchPathReset ??= JSON.stringify(withoutLocations(parseStatements(SEARCH_PATH_RESET)[0]?.stmt));
      if (JSON.stringify(withoutLocations(stmt)) !== searchPathReset)
        refuse('a query (only the search_path reset is run)');
      break;
    case 'CreateSchemaStmt':
      if (fields.authrole) refuse('CREATE SCHEMA … AUTHORIZATION (ownership)');
      if (Array.isArray(fields.schemaElts) && fields.schemaElts.length > 0)
        refuse('CREATE SCHEMA with elements');
      break;
    case 'CreateExtensionStmt': {
      const name = String(fields.extname);
      if (isRefusedExtension(name)) refuse(`CREATE EXTENSION ${name} (reaches outside the database)`);
      for (const option of definitions(fields.options)) {
        if (option.defname !== 'schema') refuse(`CREATE EXTENSION … ${String(option.defname).toUpperCase()}`);
      }
      break;
    }
    case 'CreateFunctionStmt':
      checkFunction(fields, text, findings);
      break;
    case 'DefineStmt':
      checkDefine(fields, refuse);
      findings.refused.push(...sideEffectCalls(fields));
      break;
    case 'AlterTableStmt':
      for (const command of (fields.cmds as unknown[] | undefined) ?? []) {
        const subtype = String(nodeType(command)?.[1].subtype);
        if (!ALTER_TABLE_ACTIONS.has(subtype)) refuse(`ALTER TABLE … ${subtype.replace(/^AT_/, '')}`);
      }
      findings.refused.push(...sideEffectCalls(fields));
      break;
    case 'AlterSeqStmt':
      for (const option of definitions(fields.options)) {
        if (option.defname !== 'owned_by') refuse(`ALTER SEQUENCE … ${String(option.defname)}`);
      }
      break;
    case 'AlterDomainStmt':
      if (fields.subtype !== 'C') refuse('ALTER DOMAIN other than ADD CONSTRAINT');
      findings.refused.push(...sideEffectCalls(fields));
      break;
    case 'CreateTableAsStmt':
      // A materialized view, created empty and refreshed once the rows are in.
      if (fields.objtype !== 'OBJECT_MATVIEW') refuse('CREATE TABLE … AS (runs a query)');
      findings.refused.push(...sideEffectCalls(fields));
      break;
    case 'RuleStmt':
      for (const action of (fields.actions as unknown[] | undefined) ?? []) {
        const kind = nodeType(action)?.[0] ?? 'unknown';
        if (!['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'NotifyStmt'].includes(kind)) {
          refuse(`a rule that runs ${describe(kind)}`);
        }
      }
      findings.refused.push(...sideEffectCalls(fields));
      break;
    default:
      if (!CREATE_STATEMENTS.has(type)) {
        refuse(describe(type));
        break;
      }
      if (type === 'CreateTrigStmt' && hasServerSideEffects(nameParts(fields.funcname).at(-1) ?? '')) {
        refuse(`a trigger calling ${nameParts(fields.funcname).at(-1)}()`);
      }
      findings.refused.push(...sideEffectCalls(fields));
  }
  return findings;
}

function checkSetting(fields: Record<string, unknown>, refuse: (why: string) => void): void {
  const name = String(fields.name ?? '');
  const rule = SETTINGS[name];
  const values = ((fields.args as unknown[] | undefined) ?? []).map(constantText);
  if (fields.kind !== 'VAR_SET_VALUE' || !rule || fields.is_local) {
    refuse(`SET ${name || String(fields.kind)}`);
  } else if (rule !== true && (values.length !== 1 || !rule(values[0] ?? ''))) {
    refuse(`SET ${name} = ${values.join(', ')}`);
  }
}

/** LANGUAGE sql or plpgsql, bodies parsed and checked; SECURITY DEFINER and SET options cannot be. */
function checkFunction(fields: Record<string, unknown>, text: string, findings: BodyFindings): void {
  const options = definitions(fields.options);
  const option = (name: string) => options.find((candidate) => candidate.defname === name)?.arg;
  const language = fields.sql_body ? 'sql' : (stringOf(option('language')) ?? 'sql').toLowerCase();
  if (!CHECKED_LANGUAGES.has(language)) {
    findings.refused.push(`a function in LANGUAGE ${language} (only sql and plpgsql are checked and run)`);
    return;
  }
  if (nodeType(option('security'))?.[1].boolval === true) {
    findings.unchecked.push('runs with its owner’s rights (SECURITY DEFINER)');
  }
  for (const { defname, arg } of options) {
    const setting = defname === 'set' ? String(nodeType(arg)?.[1].name) : 'search_path';
    if (setting !== 'search_path') findings.unchecked.push(`sets ${setting} when called`);
  }
  // Parameter defaults are expressions like any other.
  findings.refused.push(...sideEffectCalls(fields.parameters));
  if (fields.sql_body) {
    // BEGIN ATOMIC … END or RETURN …: parsed with the statement.
    for (const statement of atomicStatements(fields.sql_body)) {
      const kind = nodeType(statement)?.[0] ?? 'unknown';
      if (!BODY_STATEMENTS.has(kind)) findings.refused.push(`runs ${describe(kind)}`);
    }
    findings.refused.push(...sideEffectCalls(fields.sql_body));
    return;
  }
  const body = nameParts(nodeType(option('as'))?.[1].items ?? option('as')).join('\n');
  if (language === 'sql') checkBodySql(body, findings);
  else checkPlpgsql(text, findings);
}

/** The statements of `BEGIN ATOMIC … END` (a list in a list), or the one RETURN. */
function atomicStatements(body: unknown): unknown[] {
  const [type, fields] = nodeType(body) ?? ['unknown', {}];
  if (type !== 'List') return [body];
  return ((fields.items as unknown[] | undefined) ?? []).flatMap(
    (item) => (nodeType(item)?.[1].items as unknown[] | undefined) ?? [item],
  );
}

function checkDefine(fields: Record<string, unknown>, refuse: (why: string) => void): void {
  if (fields.kind !== 'OBJECT_AGGREGATE' && fields.kind !== 'OBJECT_COLLATION') {
    refuse(`CREATE ${String(fields.kind).replace(/^OBJECT_/, '')}`);
    return;
  }
  // An aggregate's support functions are called by name, not through a FuncCall node.
  for (const element of (fields.definition as unknown[] | undefined) ?? []) {
    const definition = nodeType(element)?.[1];
    const names = nameParts(nodeType(definition?.arg)?.[1].names ?? nodeType(definition?.arg)?.[1].items);
    const name = names.at(-1) ?? '';
    if (hasServerSideEffects(name)) refuse(`an aggregate calling ${name}()`);
  }
}

/** A list of DefElem nodes as `{ defname, arg }`. */
function definitions(list: unknown): { defname: unknown; arg: unknown }[] {
  return ((list as unknown[] | undefined) ?? []).map((item) => {
    const element = nodeType(item)?.[1] ?? {};
    return { defname: element.defname, arg: element.arg };
  });
}

/** The text of an A_Const: `{ sval: { sval } }`, `{ ival: { ival } }`, … (an empty one is omitted). */
function constantText(node: unknown): string {
  const constant = nodeType(node)?.[1] ?? {};
  for (const key of ['sval', 'ival', 'fval', 'boolval']) {
    const inner = constant[key] as Record<string, unknown> | undefined;
    if (inner) return String(inner[key] ?? (key === 'sval' ? '' : key === 'boolval' ? false : 0));
  }
  return '';
}

function stringOf(node: unknown): string | undefined {
  const value = nodeType(node)?.[1].sval;
  return typeof value === 'string' ? value : undefined;
}
