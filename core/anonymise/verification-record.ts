import type { Manifest, ManifestColumn, ManifestTable } from '../manifest.js';

/** A table's columns from its parts' manifest entries, with their verification counts added up. */
export function joinVerifiedColumns(parts: readonly ManifestTable[]): ManifestColumn[] {
  const [first, ...rest] = parts;
  if (!first) return [];
  return first.columns.map((column, index) => {
    const verified = [column, ...rest.map((part) => part.columns[index])]
      .map((entry) => entry?.treatment?.verified)
      .filter((entry) => entry !== undefined);
    if (!column.treatment || verified.length === 0) return column;
    const hits: Record<string, number> = {};
    for (const entry of verified) {
      for (const [detector, count] of Object.entries(entry.hits))
        hits[detector] = (hits[detector] ?? 0) + (count ?? 0);
    }
    const values = verified.reduce((sum, entry) => sum + entry.values, 0);
    return { ...column, treatment: { ...column.treatment, verified: { values, hits } } };
  });
}

/**
 * Finds a strict snapshot must not carry: detectors that found something in a column that does
 * not allow them. The finalize step refuses to publish when there are any, whatever the workers did.
 */
export function unallowedHits(manifest: Pick<Manifest, 'tables' | 'anonymisation'>): string[] {
  if (manifest.anonymisation?.mode !== 'strict') return [];
  const lines: string[] = [];
  for (const table of manifest.tables) {
    for (const column of table.columns) {
      const treatment = column.treatment;
      const allowed = new Set<string>(treatment?.allow ?? []);
      for (const [detector, count] of Object.entries(treatment?.verified?.hits ?? {})) {
        if (count && !allowed.has(detector)) {
          lines.push(
            `${table.schema}.${table.name}.${column.name}: ${count} value${count === 1 ? '' : 's'} with ${detector}`,
          );
        }
      }
    }
  }
  return lines;
}
