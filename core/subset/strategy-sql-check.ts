import type { ResolvedConfig } from '../config/resolve-config.js';
import { ReadOnlyViolationError, UsageError } from '../errors.js';
import type { Source } from '../source/source.js';
import { ConfigSqlError } from '../sql/config-sql.js';
import { picksEveryRow, strategySelect } from './selection-closure.js';

/**
 * Checks the SQL every query strategy brings (where, orderBy, sample) before anything is read:
 * each part must parse into one expression of its kind, and the SELECT it goes into must pass the
 * source's read-only guard (catalog-checked functions, operators, casts and relations). Every
 * refused strategy is listed in one error, by table and strategy.
 */
export async function checkStrategySql(
  source: Pick<Source, 'checkRead'>,
  config: ResolvedConfig,
): Promise<void> {
  const problems: string[] = [];
  for (const [name, resolved] of config.tables) {
    for (const strategy of resolved.strategies) {
      const rows = strategy.rows(resolved.table);
      if (rows.kind !== 'query' || picksEveryRow(rows)) continue;
      try {
        await source.checkRead(strategySelect(resolved.table, rows, ['1']));
      } catch (error) {
        const reason =
          error instanceof ConfigSqlError
            ? error.message
            : error instanceof ReadOnlyViolationError
              ? error.reason
              : undefined;
        if (reason === undefined) throw error;
        problems.push(`${name} (strategy "${strategy.name}"): ${reason}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new UsageError(`The config's SQL was refused; nothing was read: ${problems.join('; ')}.`, {
      hint: "A strategy's where, orderBy and sample must each be one SQL expression that only reads tables, calling built-in (or an extension's) functions that are not volatile.",
    });
  }
}
