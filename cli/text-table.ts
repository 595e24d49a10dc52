export type Alignment = 'left' | 'right';

export interface TextColumn {
  readonly header: string;
  readonly align?: Alignment;
}

/**
 * Renders rows as a plain-text table for terminals and logs. Numbers read best right-aligned; a
 * `null` row draws a rule (used above totals). Width counts code points, which is right for the
 * table names and numbers shown here.
 */
export function formatTable(
  columns: readonly TextColumn[],
  rows: readonly (readonly string[] | null)[],
): string {
  const width = (text: string) => [...text].length;
  const widths = columns.map((column, index) =>
    Math.max(width(column.header), ...rows.map((row) => (row ? width(row[index] ?? '') : 0))),
  );
  const pad = (text: string, index: number) => {
    const fill = ' '.repeat(Math.max(0, (widths[index] ?? 0) - width(text)));
    return columns[index]?.align === 'right' ? fill + text : text + fill;
  };
  const line = (cells: readonly string[]) =>
    columns
      .map((_, index) => pad(cells[index] ?? '', index))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [
    line(columns.map((column) => column.header)),
    rule,
    ...rows.map((row) => (row ? line(row) : rule)),
  ].join('\n');
}
