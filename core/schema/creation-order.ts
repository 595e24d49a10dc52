import { compareText } from './catalog-rows.js';
import type {
  CompositeTypeInfo,
  DomainInfo,
  FunctionInfo,
  QualifiedName,
  RangeTypeInfo,
  SchemaModel,
  TableInfo,
  ViewInfo,
} from './schema-model.js';

/** One object the DDL creates in dependency order. */
export type OrderedObject =
  | { readonly kind: 'domain'; readonly object: DomainInfo }
  | { readonly kind: 'composite-type'; readonly object: CompositeTypeInfo }
  | { readonly kind: 'range-type'; readonly object: RangeTypeInfo }
  | { readonly kind: 'function'; readonly object: FunctionInfo }
  | { readonly kind: 'table'; readonly object: TableInfo }
  | { readonly kind: 'view'; readonly object: ViewInfo };

export interface CreationOrder {
  /** Types, functions and tables, each after what it needs: created before the data. */
  readonly beforeData: readonly OrderedObject[];
  /**
   * Views and materialized views, and the functions and types that need a view (a function
   * returning a view's rows): created after the data, once keys exist (a view grouping by a
   * primary key depends on it).
   */
  readonly afterData: readonly OrderedObject[];
  /** Signatures of the functions in afterData: a table or domain expression cannot call them. */
  readonly lateFunctions: ReadonlySet<string>;
}

type OrderModel = Pick<
  SchemaModel,
  'domains' | 'compositeTypes' | 'rangeTypes' | 'functions' | 'tables' | 'views'
>;

/**
 * Orders the objects that may depend on one another (pg_depend for functions and views; types,
 * expressions, partitions and inheritance for tables and types) so each comes after what it needs.
 * Among objects that are ready at the same time: types, then functions, tables, views, each by
 * name — so the scripts read like pg_dump's and are the same on every run. A dependency cycle
 * (only possible with circular function signatures) is broken at its first object in that order.
 */
export function creationOrder(model: OrderModel): CreationOrder {
  const nodes: Node[] = [
    ...model.domains.map((object) => node({ kind: 'domain', object }, 0)),
    ...model.compositeTypes.map((object) => node({ kind: 'composite-type', object }, 0)),
    ...model.rangeTypes.map((object) => node({ kind: 'range-type', object }, 0)),
    ...model.functions.map((object) => node({ kind: 'function', object }, 1)),
    ...model.tables.map((object) => node({ kind: 'table', object }, 2)),
    ...model.views.map((object) => node({ kind: 'view', object }, 3)),
  ];
  const byKey = new Map<string, Node>();
  for (const entry of nodes) byKey.set(entry.key, entry);
  const find = (key: string) => byKey.get(key);
  const typeNamed = (name: QualifiedName | null) =>
    name ? (find(typeKey(name)) ?? find(relationKey(name))) : undefined;
  const functionNamed = (signature: string) => find(functionKey(signature));

  for (const entry of nodes) {
    const needs = new Set<Node | undefined>();
    const { item } = entry;
    switch (item.kind) {
      case 'domain':
        needs.add(typeNamed(referencedType(item.object.baseType)));
        for (const signature of domainFunctions(item.object)) needs.add(functionNamed(signature));
        break;
      case 'composite-type':
        for (const attribute of item.object.attributes)
          needs.add(typeNamed(referencedType(attribute.dataType)));
        break;
      case 'range-type':
        needs.add(typeNamed(referencedType(item.object.subtype)));
        for (const signature of [item.object.subtypeDiff, item.object.canonical]) {
          if (signature) needs.add(functionNamed(signature));
        }
        break;
      case 'function':
      case 'view':
        for (const ref of item.object.dependsOn) {
          needs.add(
            ref.kind === 'function'
              ? functionNamed(ref.name)
              : ref.kind === 'type'
                ? (find(typeKey(ref)) ?? find(relationKey(ref)))
                : find(relationKey(ref)),
          );
        }
        break;
      case 'table': {
        const table = item.object;
        for (const column of table.columns) {
          needs.add(typeNamed(referencedType(column.dataType)));
          for (const signature of column.requiredFunctions ?? []) needs.add(functionNamed(signature));
        }
        for (const check of table.checkConstraints) {
          for (const signature of check.requiredFunctions ?? []) needs.add(functionNamed(signature));
        }
        for (const parent of [...(table.partitionOf ? [table.partitionOf] : []), ...table.inherits]) {
          needs.add(find(relationKey(parent)));
        }
        break;
      }
    }
    needs.delete(undefined);
    needs.delete(entry);
    entry.needs = [...needs].filter((need): need is Node => need !== undefined);
  }

  // Views come after the data; so does whatever needs a view (functions and types only: a table
  // or domain cannot wait, so its expression calling such a function is left out instead).
  const late = new Set<Node>(nodes.filter((entry) => entry.item.kind === 'view'));
  for (let grown = true; grown; ) {
    grown = false;
    for (const entry of nodes) {
      if (late.has(entry) || entry.item.kind === 'table' || entry.item.kind === 'domain') continue;
      if (entry.needs.some((need) => late.has(need))) {
        late.add(entry);
        grown = true;
      }
    }
  }
  const early = nodes.filter((entry) => !late.has(entry));
  for (const entry of early) entry.needs = entry.needs.filter((need) => !late.has(need));

  const lateFunctions = new Set<string>();
  for (const entry of late)
    if (entry.item.kind === 'function') lateFunctions.add(entry.item.object.signature);
  return {
    beforeData: topologicalOrder(early),
    afterData: topologicalOrder([...late]),
    lateFunctions,
  };
}

/**
 * Names the functions an expression calls that do not exist when it is created: ones the model
 * does not have, or (for tables and domains) ones in `lateFunctions`, created after the data.
 */
export function unavailableFunctions(
  model: Pick<SchemaModel, 'functions'>,
  lateFunctions: ReadonlySet<string> = new Set(),
): (required: readonly string[] | undefined) => string[] {
  const known = new Set(model.functions.map((fn) => fn.signature));
  return (required) =>
    (required ?? []).filter((signature) => !known.has(signature) || lateFunctions.has(signature));
}

/**
 * The schema-qualified type a format_type() string names, ignoring any array brackets:
 * `public."my type"[]` → public / my type. Null for built-in types, which print unqualified.
 */
function referencedType(formatted: string): QualifiedName | null {
  const identifier = '("(?:[^"]|"")*"|[^".\\s[(]+)';
  const match = new RegExp(`^${identifier}\\.${identifier}`).exec(formatted);
  if (!match?.[1] || !match[2]) return null;
  const unquote = (text: string) => (text.startsWith('"') ? text.slice(1, -1).replaceAll('""', '"') : text);
  return { schema: unquote(match[1]), name: unquote(match[2]) };
}

interface Node {
  readonly item: OrderedObject;
  readonly key: string;
  readonly rank: number;
  readonly sortName: string;
  needs: Node[];
}

function node(item: OrderedObject, rank: number): Node {
  const { object } = item;
  const key =
    item.kind === 'function'
      ? functionKey(item.object.signature)
      : item.kind === 'table' || item.kind === 'view'
        ? relationKey(object)
        : typeKey(object);
  const detail = item.kind === 'function' ? `(${item.object.identityArguments})` : '';
  return { item, key, rank, sortName: `${object.schema}\u0000${object.name}${detail}`, needs: [] };
}

const relationKey = (name: QualifiedName) => JSON.stringify(['relation', name.schema, name.name]);
const typeKey = (name: QualifiedName) => JSON.stringify(['type', name.schema, name.name]);
const functionKey = (signature: string) => JSON.stringify(['function', signature]);

function domainFunctions(domain: DomainInfo): string[] {
  return [
    ...(domain.requiredFunctions ?? []),
    ...domain.checks.flatMap((check) => check.requiredFunctions ?? []),
  ];
}

/** Kahn's algorithm, taking the first ready node by (rank, name) each time. */
function topologicalOrder(nodes: readonly Node[]): OrderedObject[] {
  const compare = (a: Node, b: Node) => a.rank - b.rank || compareText(a.sortName, b.sortName);
  const remaining = new Set(nodes);
  const waitingOn = new Map<Node, number>();
  const dependents = new Map<Node, Node[]>();
  for (const entry of nodes) {
    const needs = entry.needs.filter((need) => remaining.has(need));
    waitingOn.set(entry, needs.length);
    for (const need of needs) dependents.set(need, [...(dependents.get(need) ?? []), entry]);
  }
  const ordered: OrderedObject[] = [];
  const sorted = [...nodes].sort(compare);
  while (remaining.size > 0) {
    const next =
      sorted.find((entry) => remaining.has(entry) && waitingOn.get(entry) === 0) ??
      // A cycle: take the first remaining object and go on.
      sorted.find((entry) => remaining.has(entry));
    if (!next) break;
    remaining.delete(next);
    ordered.push(next.item);
    for (const dependent of dependents.get(next) ?? []) {
      waitingOn.set(dependent, (waitingOn.get(dependent) ?? 1) - 1);
    }
  }
  return ordered;
}
