import type { AnonymiseConfig } from '../anonymise/anonymise-config.js';
import type { ForeignKeyPolicy, Strategy } from '../subset/strategy.js';
import type { RelationsConfig } from './virtual-relation.js';

/** A table's strategies (their rows are unioned) and an optional guard on its size. */
export interface TableConfig {
  readonly strategies: readonly Strategy[];
  /** Stop the export when this table would get more rows than this. */
  readonly maxRows?: number;
}

/**
 * A devsnap config, usually the default export of `devsnap.config.ts`:
 *
 * ```ts
 * import { defineConfig } from 'devsnap';
 * import { latest, randomSample, allRows } from 'devsnap/strategies';
 * export default defineConfig({
 *   tables: { 'public.rental': [latest(500, { orderBy: 'rental_date' })] },
 *   foreignKeys: { policies: { 'public.rental.rental_customer_id_fkey': 'include-parents' } },
 * });
 * ```
 */
export interface DevsnapConfig {
  /**
   * Every table must be named in `tables`: a table the config does not name (a new one, say)
   * stops the export with the list of such tables, as django-devdata's "Found models without
   * strategies" does. `devsnap init` writes it.
   */
  readonly requireStrategies?: boolean;
  /** Strategies for tables the config does not mention; all rows when absent. An empty list exports no rows. */
  readonly defaultStrategy?: Strategy | readonly Strategy[];
  /** By `schema.table` (or a bare table name when it is unique): its strategies, or a TableConfig. */
  readonly tables?: Readonly<Record<string, readonly Strategy[] | TableConfig>>;
  readonly foreignKeys?: {
    /** For every foreign key without its own policy; `restrict` when absent. */
    readonly default?: ForeignKeyPolicy;
    /**
     * By `schema.table.constraint_name`, or by the key's columns: `schema.table.column`
     * (`public.shop_post.author_id`) or `schema.table.(a, b)` for a composite key.
     */
    readonly policies?: Readonly<Record<string, ForeignKeyPolicy>>;
  };
  /** Guards that stop an export that would be far larger than intended. */
  readonly maxRows?: { readonly perTable?: number; readonly total?: number };
  readonly anonymise?: AnonymiseConfig;
  /** Relations the database does not declare: virtual ones, and the conventions detected (Django, Rails). */
  readonly relations?: RelationsConfig;
  /**
   * Public keys whose signature every pulled or imported snapshot must carry: your pipeline's KMS
   * key (`aws kms get-public-key … --query PublicKey --output text`) or a PEM public key. With a key
   * here (or in $DEVSNAP_TRUSTED_KEYS, or added with `devsnap trust add`) unsigned snapshots are refused.
   */
  readonly trust?: { readonly keys?: readonly string[] };
}

/** Types a config object; returns it unchanged. */
export function defineConfig(config: DevsnapConfig): DevsnapConfig {
  return config;
}

/** Where loadConfig records the file a config came from, for messages (never hashed or serialised). */
const CONFIG_FILE: unique symbol = Symbol('devsnap.configFile');

/** A copy of the config that remembers its file. */
export function withConfigFile(config: DevsnapConfig, file: string): DevsnapConfig {
  return Object.defineProperty({ ...config }, CONFIG_FILE, { value: file, enumerable: false });
}

/** The file a config was loaded from, when loadConfig loaded it. */
export function configFileOf(config: DevsnapConfig): string | undefined {
  return (config as { [CONFIG_FILE]?: string })[CONFIG_FILE];
}
