import type { CliIo } from './cli-context.js';

/** Prints a command's result: one JSON document for scripts, or text for people. */
export function emit(io: CliIo, json: boolean | undefined, value: object, text: () => string): void {
  if (json) io.stdout.write(`${JSON.stringify({ ok: true, ...value }, null, 2)}\n`);
  else io.stdout.write(`${text()}\n`);
}

/** Fixed-width text table; numbers right-aligned. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const numeric = headers.map(
    (_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'),
  );
  return cells
    .map((row) =>
      row
        .map((cell, column) =>
          numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
