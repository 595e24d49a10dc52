import type { ColumnInfo, TableInfo } from '../schema/schema-model.js';
import type { TextValue } from '../source/source.js';
import type { RowValues } from './anonymiser.js';

/**
 * RowValues over one batch row at a time, without allocating per row: the engine points it at
 * the next row. The row object and key are built only when a rule asks for them.
 */
export class RowCursor implements RowValues {
  private row: readonly TextValue[] = [];
  private object: Record<string, TextValue> | null = null;
  private rowKey: string | null = null;
  private readonly positions: Map<string, number>;
  private readonly keyPositions: number[];

  constructor(table: TableInfo, columns: readonly ColumnInfo[]) {
    this.positions = new Map(columns.map((column, index) => [column.name, index]));
    const keyColumns = table.primaryKey?.columns ?? [];
    const positions = keyColumns.map((name) => this.positions.get(name));
    this.keyPositions =
      positions.every((p) => p !== undefined) && positions.length > 0
        ? (positions as number[])
        : columns.map((_, index) => index);
  }

  point(row: readonly TextValue[]): void {
    this.row = row;
    this.object = null;
    this.rowKey = null;
  }

  get(column: string): TextValue {
    const position = this.positions.get(column);
    return position === undefined ? null : (this.row[position] ?? null);
  }

  toObject(): Readonly<Record<string, TextValue>> {
    if (!this.object) {
      const object: Record<string, TextValue> = {};
      for (const [name, position] of this.positions) object[name] = this.row[position] ?? null;
      this.object = object;
    }
    return this.object;
  }

  key(): string {
    this.rowKey ??= this.keyPositions.map((position) => this.row[position] ?? '\0null').join('\u0001');
    return this.rowKey;
  }
}
