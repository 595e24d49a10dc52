import { describe, expect, it } from 'vitest';
import { describeColumn } from '../../core/anonymise/anonymise-column.js';
import type { ClassifiedColumn } from '../../core/anonymise/column-classification.js';
import { NOT_PERSONAL } from '../../core/anonymise/column-classifier.js';
import { starterConfig } from '../../core/anonymise/starter-config.js';
import type { ColumnInfo, SchemaModel, TableInfo } from '../../core/schema/schema-model.js';

const column = (name: string): ColumnInfo => ({
  name,
  position: 1,
  dataType: 'text',
  baseType: 'text',
  isArray: false,
  nullable: false,
  defaultExpression: null,
  identity: null,
  generatedExpression: null,
  collation: null,
});

const table = (name: string, columns: string[], extra: Partial<TableInfo> = {}): TableInfo =>
  ({
    schema: 'public',
    name,
    kind: 'table',
    columns: columns.map(column),
    primaryKey: null,
    uniqueConstraints: [],
    foreignKeys: [],
    checkConstraints: [],
    indexes: [],
    partitionRoot: null,
    estimatedRows: 10,
    ...extra,
  }) as unknown as TableInfo;

describe('the starter config', () => {
  it('gives the rule to the key when only a column referencing it looks personal, so the foreign key follows', () => {
    const handles = table('handles', ['handle'], {
      primaryKey: { name: 'handles_pkey', columns: ['handle'], definition: 'PRIMARY KEY (handle)' },
      estimatedRows: -1,
    });
    const posts = table('posts', ['author_email'], {
      foreignKeys: [
        {
          name: 'posts_author_fkey',
          columns: ['author_email'],
          referencedTable: { schema: 'public', name: 'handles' },
          referencedColumns: ['handle'],
          definition: '',
        },
      ],
    });
    const model = { tables: [handles, posts], domains: [], enums: [] } as unknown as SchemaModel;
    const classified = new Map<string, ClassifiedColumn>([
      [
        'public.handles.handle',
        {
          key: 'public.handles.handle',
          facts: describeColumn(model, handles, handles.columns[0] as ColumnInfo),
          verdict: NOT_PERSONAL,
          sample: null,
        },
      ],
      [
        'public.posts.author_email',
        {
          key: 'public.posts.author_email',
          facts: describeColumn(model, posts, posts.columns[0] as ColumnInfo),
          verdict: {
            personal: true,
            reasons: ['name looks like an email address'],
            suggestion: "fake('internet.email')",
          },
          sample: null,
        },
      ],
    ]);
    const text = starterConfig({
      model,
      classified,
      source: 'postgres://app@db/app',
      now: new Date('2026-01-02T00:00:00Z'),
    });
    expect(text).toContain('from postgres://app@db/app on 2026-01-02.');
    expect(text).toContain("    'public.handles': [allRows()], // not analysed yet");
    expect(text).toContain(
      "      // public.handles.handle: referenced by public.posts.author_email (posts_author_fkey), which looks personal\n      // unique: outputs stay distinct\n      'public.handles.handle': fake('internet.email'),",
    );
    expect(text).toContain(
      "      // (no rule: it references public.handles.handle (posts_author_fkey) and takes that key's mapping, so joins still match)",
    );
    expect(text).toContain("import { allRows, fake } from 'devsnap/strategies';");
  });
});
