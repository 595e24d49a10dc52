import type { ColumnInfo, SchemaModel, TableInfo } from '../schema/schema-model.js';
import type { TextValue } from '../source/source.js';
import type { Detector } from './detectors/detector.js';
import type { DetectorName, PatternDetectorName } from './detectors/detector-names.js';
import type { KnownValues } from './known-values/known-values.js';
import type { PersonalValueKind } from './known-values/personal-value-kind.js';
import type { SeededRandom } from './seeded-random.js';

/**
 * An anonymisation rule for a column: the plug-in point that `fake()`, `hash()`, `keep()` and the
 * other builders in devsnap/strategies implement, and that a team can implement too. The engine
 * does the rest around it: NULL handling, array elements, uniqueness, fitting the column's type
 * and check constraints, and keeping foreign keys matching.
 */
export interface Anonymiser {
  /** `fake`, `hash`, `keep`, …: shown in the plan and recorded in the manifest. */
  readonly kind: string;
  /**
   * The rule with its options, e.g. `fake(internet.email, en)`. It also keys the hash that seeds
   * every output, so two columns with the same rule turn one input into the same output. Never
   * include a value from the database in it.
   */
  describe(): string;
  /** NULL stays NULL (the default for every built-in); false lets the rule fill NULLs too. */
  readonly preserveNulls: boolean;
  /** Set only by `keep(reason)`: values are exported as they are, for this recorded reason. */
  readonly keepReason?: string;
  /**
   * Detectors whose finds this column may publish (`keep('public film credits', { allow:
   * ['person-name'] })`); recorded in the manifest. Export-time verification ignores them here.
   */
  readonly allow?: readonly DetectorName[];
  /**
   * What export-time verification checks of this rule's outputs: `unchanged` (the default) checks
   * the values — and JSON leaves — that leave the rule as they came in, since fakes and hashes are
   * made up; `output` checks every output, for rules that keep part of each value (mask).
   */
  readonly verify?: 'unchanged' | 'output';
  /** Array columns: apply the rule to each element (default) or to the whole value. */
  readonly wholeValue?: boolean;
  /** True when the output varies with `attempt`, so collisions on a unique column can be resolved. */
  readonly canVary: boolean;
  /**
   * True when the output depends on other columns of the row, not only on the value: such a rule
   * cannot be used on a key that foreign keys reference, and its outputs are not memoised.
   */
  readonly readsRow?: boolean;
  /**
   * The kind of personal value the rule's column holds (`fake('person.firstName')`: given names),
   * so the export finds the source's own values of that kind in free text and scrub() gives them
   * this rule's fakes. Rules that do not say are judged by their column's name.
   */
  readonly valueKind?: PersonalValueKind;
  /** Rules inside JSON by path (`jsonPaths()`), whose paths' values the export indexes likewise. */
  readonly jsonRules?: readonly (readonly [string, Anonymiser])[];
  /** For rules that keep some rows' values as they are (`keepIf()`): whether this raw row's is kept. */
  readonly keeps?: (row: Readonly<Record<string, TextValue>>) => boolean;
  /** Problems using this rule on this column, listed with every other config problem. */
  validate?(column: AnonymiseColumn): string[];
  /** Called once per column before any row is read; returns the function applied to each value. */
  bind(column: AnonymiseColumn, tools: AnonymiserTools): ValueFunction | Promise<ValueFunction>;
}

/**
 * Turns one value (text output format; an array's element for array columns) into its
 * replacement. `attempt` is 0 unless the engine is resolving a collision on a unique column.
 */
export type ValueFunction = (value: TextValue, row: RowValues, attempt: number) => TextValue;

/** The raw (not yet anonymised) row a value belongs to. */
export interface RowValues {
  get(column: string): TextValue;
  /** The row as an object, column name to text value (booleans are `t`/`f`). */
  toObject(): Readonly<Record<string, TextValue>>;
  /** A stable identity for the row: its primary key's text, else every value. */
  key(): string;
}

/** What the engine offers a rule while binding it to a column. */
export interface AnonymiserTools {
  /** Keyed hashing for this rule: a function of (secret, rule description, input). */
  key(rule: Anonymiser): RuleKey;
  /** Binds another rule (for rules built from rules: keepIf, jsonPaths). */
  bind(rule: Anonymiser, column: AnonymiseColumn): Promise<ValueFunction>;
  /**
   * The values of `column` in exactly the rows exported from `table`, as they appear in the
   * snapshot (anonymised when that column is).
   */
  exportedValues(table: TableInfo, column: string): Promise<string[]>;
  /**
   * What the export does to another column's values (its rule, or the rule of the key it
   * follows), or null when that column is exported as it is. For rules that anonymise records
   * serialised into text (Django's serializer, paper_trail) with their own table's rules, so a
   * revision restores the values the live table has.
   */
  columnTransform(table: TableInfo, column: string): Promise<ColumnFunction | null>;
  /**
   * The source's own personal values (names, usernames, addresses… of the columns whose rules
   * fake them, read from their whole tables) with each one's column rule, or null when the export
   * has none: scrub() finds them in text and gives them their columns' fakes.
   */
  knownValues(): Promise<KnownValues | null>;
  /** The pattern detectors, as the export's config sets them up (its `phoneRegions`). */
  detectors(): Promise<ReadonlyMap<PatternDetectorName, Detector>>;
}

/** One column's anonymisation as the export applies it, given a row of that column's table. */
export type ColumnFunction = (value: TextValue, row: RowValues) => TextValue;

export interface RuleKey {
  /** HMAC-SHA256 of `input` under this rule's key. */
  digest(input: string): Buffer;
  /** A pseudo-random stream seeded by digest(input). */
  random(input: string): SeededRandom;
  /**
   * A pseudo-random stream for picking a fake, seeded by SipHash-2-4 of `input` under a key derived
   * from this rule's: as unpredictable without the secret as random(), at a quarter of its cost,
   * but a different stream. For choices only, never as a digest that is published.
   */
  picks(input: string): SeededRandom;
}

/** Broad type of a column, for rules that must produce values of that type. */
export type TypeFamily =
  | 'text'
  | 'integer'
  | 'numeric'
  | 'float'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'time'
  | 'uuid'
  | 'json'
  | 'inet'
  | 'bytea'
  | 'geometry'
  | 'other';

/** The column a rule is bound to, with the facts that shape valid outputs. */
export interface AnonymiseColumn {
  readonly table: TableInfo;
  readonly column: ColumnInfo;
  readonly model: SchemaModel;
  /** `schema.table.column` */
  readonly qualified: string;
  /** Of the column, or of each element for arrays. */
  readonly family: TypeFamily;
  readonly isArray: boolean;
  /** Characters allowed by varchar(n)/char(n) (per element for arrays), else null. */
  readonly maxLength: number | null;
  /** Inclusive range of an integer column's type. */
  readonly integerRange: readonly [bigint, bigint] | null;
  /** Under a primary key or unique constraint: outputs must stay distinct. */
  readonly unique: boolean;
  /** Enum labels when the column is an enum. */
  readonly enumLabels: readonly string[] | null;
}
