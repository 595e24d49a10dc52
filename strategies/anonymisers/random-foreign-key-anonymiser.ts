import type { AnonymiseColumn, Anonymiser } from '../../core/anonymise/anonymiser.js';
import type { ForeignKeyInfo } from '../../core/schema/schema-model.js';
import { optionProblems } from '../option-problems.js';
import { type RuleOptions, seedInput } from './rule-options.js';

export interface RandomForeignKeyOptions extends RuleOptions {
  /** The foreign key when the column is in more than one. */
  readonly foreignKey?: string;
  /** `row` (default): each row picks its own parent; `value`: rows of one parent move together. */
  readonly per?: 'row' | 'value';
}

/**
 * Points each row at one of the parent rows that are in the snapshot, chosen by a keyed hash:
 * the link to the real parent (who wrote this comment) is gone, the foreign key still holds.
 */
export function randomForeignKey(options: RandomForeignKeyOptions = {}): Anonymiser {
  const per = options.per ?? 'row';
  return {
    kind: 'randomForeignKey',
    describe: () => `randomForeignKey(per=${per}${options.foreignKey ? `, ${options.foreignKey}` : ''})`,
    preserveNulls: options.preserveNulls ?? true,
    canVary: true,
    readsRow: per === 'row',
    validate(column) {
      const optionIssues = optionProblems('randomForeignKey()', options, [
        'foreignKey',
        'per',
        'preserveNulls',
      ]);
      if (optionIssues.length > 0) return optionIssues;
      const found = foreignKeyOf(column, options.foreignKey);
      return typeof found === 'string' ? [found] : [];
    },
    async bind(column, tools) {
      const foreignKey = foreignKeyOf(column, options.foreignKey);
      if (typeof foreignKey === 'string') throw new Error(foreignKey);
      const parent = column.model.tables.find(
        (t) => t.schema === foreignKey.referencedTable.schema && t.name === foreignKey.referencedTable.name,
      );
      if (!parent)
        throw new Error(`randomForeignKey(): ${column.qualified} references a table that is not exported`);
      const keys = await tools.exportedValues(parent, foreignKey.referencedColumns[0] as string);
      const key = tools.key(this);
      return (value, row, attempt) => {
        if (value === null && this.preserveNulls) return null;
        if (keys.length === 0) return null;
        const random = key.random(seedInput(per === 'value' ? value : null, () => row.key(), attempt));
        return keys[random.int(0, keys.length - 1)] ?? null;
      };
    },
  };
}

function foreignKeyOf(column: AnonymiseColumn, name: string | undefined): ForeignKeyInfo | string {
  const candidates = column.table.foreignKeys.filter(
    (fk) => fk.columns.includes(column.column.name) && (name === undefined || fk.name === name),
  );
  if (candidates.length === 0) {
    return `randomForeignKey(): ${column.qualified} is not in ${name ? `a foreign key named ${name}` : 'a foreign key'}`;
  }
  if (candidates.length > 1) {
    return `randomForeignKey(): ${column.qualified} is in ${candidates.length} foreign keys; name one with { foreignKey }`;
  }
  const foreignKey = candidates[0] as ForeignKeyInfo;
  if (foreignKey.columns.length > 1) {
    return `randomForeignKey(): ${foreignKey.name} has ${foreignKey.columns.length} columns; only single-column foreign keys are supported`;
  }
  return foreignKey;
}
