import {
  exportedColumns,
  qualifiedName,
  type SchemaModel,
  type TableInfo,
} from '../../schema/schema-model.js';
import type { ClassifiedColumn } from '../column-classification.js';
import { djangoPreset } from './django-preset.js';
import { railsPreset } from './rails-preset.js';

/** A rule a framework preset writes into the starter config, with the comment that explains it. */
export interface PresetRule {
  /** `schema.table.column` */
  readonly column: string;
  /** Rule source text, e.g. `developmentPassword('django')`. */
  readonly rule: string;
  /** Why a team on this framework keeps this rule (one or more comment lines). */
  readonly why: readonly string[];
}

/** What `devsnap init` writes for an application framework it recognised in the schema. */
export interface FrameworkPreset {
  readonly framework: 'Django' | 'Rails';
  /** How it was recognised, e.g. `tables public.django_migrations and public.django_content_type`. */
  readonly evidence: string;
  readonly rules: readonly PresetRule[];
  /** Tables exported with no rows (`none()`), with why. */
  readonly emptyTables: ReadonlyMap<string, string>;
  /** Header comment lines (how to sign in after an import). */
  readonly notes: readonly string[];
}

/** What the presets read: the schema, the classifier's verdicts and samples, facts read from the source. */
export interface PresetContext {
  readonly model: SchemaModel;
  readonly classified: ReadonlyMap<string, ClassifiedColumn>;
  /** Django content types (`app_label.model`) found in django_content_type, when it was read. */
  readonly djangoContentTypes?: readonly string[];
}

/** The presets of every framework the schema shows. */
export function frameworkPresets(context: PresetContext): FrameworkPreset[] {
  return [djangoPreset(context), railsPreset(context)].filter(
    (preset): preset is FrameworkPreset => preset !== null,
  );
}

/** Exported (non-partition) tables. */
export function exportedTables(model: SchemaModel): TableInfo[] {
  return model.tables.filter((table) => table.partitionRoot === null);
}

/** A table by schema and name. */
export function tableNamed(model: SchemaModel, schema: string, name: string): TableInfo | undefined {
  return exportedTables(model).find((table) => table.schema === schema && table.name === name);
}

/** The schema holding both tables, if one does. */
export function schemaWith(model: SchemaModel, first: string, second: string): string | null {
  const schemas = exportedTables(model)
    .filter((table) => table.name === first)
    .map((table) => table.schema);
  return schemas.find((schema) => tableNamed(model, schema, second) !== undefined) ?? null;
}

export function hasColumn(table: TableInfo, name: string): boolean {
  return exportedColumns(table).some((column) => column.name === name);
}

/** `schema.table.column` */
export function presetColumn(table: TableInfo, column: string): string {
  return `${qualifiedName(table)}.${column}`;
}
