import type { ResolvedConfig } from '../config/resolve-config.js';
import type { VirtualKey } from '../config/virtual-relation.js';
import {
  type ColumnInfo,
  type ForeignKeyInfo,
  type QualifiedName,
  qualifiedName,
  type SchemaModel,
  type TableInfo,
} from '../schema/schema-model.js';
import { columnNamed } from './row-identity.js';
import type { ForeignKeyPolicy } from './strategy.js';
import { stronglyConnectedComponents } from './strongly-connected-components.js';

/** One foreign key between two exported tables. */
export interface ForeignKeyEdge {
  /** `schema.table.constraint`, the name policies use; a key declared on partitions is named after the first. */
  readonly name: string;
  readonly child: TableInfo;
  readonly parent: TableInfo;
  readonly columns: readonly ColumnInfo[];
  readonly referencedColumns: readonly ColumnInfo[];
  readonly policy: ForeignKeyPolicy;
  /** Partitions that declare it, when it is declared on the child's partitions instead of the child. */
  readonly partitions: readonly string[];
  /** How the child holds the key when the database does not declare it; null for a declared key. */
  readonly virtual: VirtualKey | null;
}

/** Tables that reach each other through foreign keys (a cycle), or one table. */
export interface TableComponent {
  readonly tables: readonly TableInfo[];
  /** Two or more tables, or one that references itself. */
  readonly cyclic: boolean;
}

/**
 * The foreign keys between exported tables, with those declared on leaf partitions lifted to their
 * partitioned table (Pagila declares payment's keys on every partition), and the tables grouped
 * into strongly connected components listed parents first.
 */
export class ForeignKeyGraph {
  readonly components: readonly TableComponent[];
  private readonly byName = new Map<string, TableInfo>();
  private readonly parents = new Map<string, ForeignKeyEdge[]>();
  private readonly children = new Map<string, ForeignKeyEdge[]>();
  private readonly componentIndex = new Map<string, number>();

  constructor(
    readonly tables: readonly TableInfo[],
    readonly edges: readonly ForeignKeyEdge[],
  ) {
    for (const table of tables) {
      const name = qualifiedName(table);
      this.byName.set(name, table);
      this.parents.set(name, []);
      this.children.set(name, []);
    }
    for (const edge of edges) {
      this.parents.get(qualifiedName(edge.child))?.push(edge);
      this.children.get(qualifiedName(edge.parent))?.push(edge);
    }
    const components = stronglyConnectedComponents(tables, (table) =>
      this.parentsOf(table).map((edge) => edge.parent),
    );
    this.components = components.map((members) => ({
      tables: members,
      cyclic:
        members.length > 1 ||
        this.parentsOf(members[0] as TableInfo).some((edge) => edge.parent === edge.child),
    }));
    this.components.forEach((component, index) => {
      for (const table of component.tables) this.componentIndex.set(qualifiedName(table), index);
    });
  }

  static build(model: SchemaModel, config: ResolvedConfig): ForeignKeyGraph {
    const tables = [...config.tables.values()].map((resolved) => resolved.table);
    const exported = new Map(tables.map((table) => [qualifiedName(table), table]));
    const byName = new Map(model.tables.map((table) => [qualifiedName(table), table]));
    const rootOf = (name: QualifiedName): TableInfo | undefined =>
      exported.get(qualifiedName(byName.get(qualifiedName(name))?.partitionRoot ?? name));
    const grouped = new Map<
      string,
      { child: TableInfo; parent: TableInfo; members: { table: TableInfo; key: ForeignKeyInfo }[] }
    >();
    for (const table of model.tables) {
      const child = rootOf(table);
      if (!child) continue;
      for (const key of table.foreignKeys) {
        const parent = rootOf(key.referencedTable);
        if (!parent) continue;
        const id = `${qualifiedName(child)}(${key.columns.join(',')})>${qualifiedName(parent)}(${key.referencedColumns.join(',')})`;
        // A key declared on the table itself stands alone; partitions' copies of one key merge.
        const groupId = table === child ? `${id}#${key.name}` : id;
        const group = grouped.get(groupId) ?? { child, parent, members: [] };
        group.members.push({ table, key });
        grouped.set(groupId, group);
      }
    }
    const edges = [...grouped.values()].map(({ child, parent, members }): ForeignKeyEdge => {
      const first = members[0] as { table: TableInfo; key: ForeignKeyInfo };
      const policies = members.map(({ table, key }) => config.policyFor(table, key));
      return {
        name: `${qualifiedName(first.table)}.${first.key.name}`,
        child,
        parent,
        columns: first.key.columns.map((name) => columnNamed(child, name)),
        referencedColumns: first.key.referencedColumns.map((name) => columnNamed(parent, name)),
        policy: combinedPolicy(policies),
        partitions: first.table === child ? [] : members.map(({ table }) => qualifiedName(table)),
        virtual: null,
      };
    });
    return new ForeignKeyGraph(tables, [...edges, ...virtualEdges(config, exported)]);
  }

  table(name: string): TableInfo {
    const table = this.byName.get(name);
    if (!table) throw new Error(`no exported table ${name}`);
    return table;
  }

  /** Foreign keys of `table` (it is the child). */
  parentsOf(table: TableInfo): readonly ForeignKeyEdge[] {
    return this.parents.get(qualifiedName(table)) ?? [];
  }

  /** Foreign keys that reference `table`. */
  childrenOf(table: TableInfo): readonly ForeignKeyEdge[] {
    return this.children.get(qualifiedName(table)) ?? [];
  }

  componentOf(table: TableInfo): TableComponent {
    return this.components[this.componentIndex.get(qualifiedName(table)) as number] as TableComponent;
  }

  /** Tables in order, parents before children (members of a cycle next to each other). */
  orderedTables(): TableInfo[] {
    return this.components.flatMap((component) => [...component.tables]);
  }
}

/** One edge per parent of each virtual relation (a polymorphic one has several). */
function virtualEdges(config: ResolvedConfig, exported: ReadonlyMap<string, TableInfo>): ForeignKeyEdge[] {
  return config.relations.flatMap((relation) => {
    const child = exported.get(qualifiedName(relation.child));
    if (!child) return [];
    // One column per part (a JSON column twice for two keys in it): widths line up with the key's values.
    const columns = relation.parts.map((part) => part.column);
    return relation.targets.flatMap((target): ForeignKeyEdge[] => {
      const parent = exported.get(qualifiedName(target.parent));
      if (!parent) return [];
      const when =
        relation.discriminator && target.values
          ? { column: relation.discriminator, values: target.values }
          : null;
      return [
        {
          name: when ? `${relation.name}->${qualifiedName(parent)}` : relation.name,
          child,
          parent,
          columns,
          referencedColumns: target.columns,
          policy: config.relationPolicy(relation),
          partitions: [],
          virtual: { relation: relation.name, origin: relation.origin, parts: relation.parts, when },
        },
      ];
    });
  });
}

/**
 * Partitions may give their copies of one key different policies; one policy must hold for the
 * whole table: include-parents, else restrict, else nullify (which every copy then allows).
 */
function combinedPolicy(policies: readonly ForeignKeyPolicy[]): ForeignKeyPolicy {
  if (policies.includes('include-parents')) return 'include-parents';
  if (policies.includes('restrict')) return 'restrict';
  return 'nullify';
}
