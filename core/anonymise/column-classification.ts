import { exportedColumns, type SchemaModel, type TableInfo } from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import { describeColumn } from './anonymise-column.js';
import type { AnonymiseColumn } from './anonymiser.js';
import { type ColumnVerdict, classifyByName, classifyValues, mergeVerdicts } from './column-classifier.js';
import { allDetectorsScanner } from './detectors/load-detectors.js';
import type { PersonalDataScanner } from './detectors/personal-data-scanner.js';
import { sampleColumnValues } from './value-sampler.js';

/** Rows per table the classifier reads unless the config says otherwise. */
const DEFAULT_SAMPLE_ROWS = 200;

/** Families whose values can hide personal data the name does not reveal. */
const SAMPLED_FAMILIES = new Set(['text', 'other', 'json', 'integer', 'numeric']);

export interface ClassifiedColumn {
  readonly key: string;
  readonly facts: AnonymiseColumn;
  readonly verdict: ColumnVerdict;
  /** The sampled values (only for columns that were sampled); never leaves the process. */
  readonly sample: readonly TextValue[] | null;
}

/**
 * Classifies every exported column of the model: by name and type, then by a sample of its
 * values read from the source. `shouldSample` limits which columns are read (the export samples
 * only columns without a rule, and jsonPaths columns to check what their paths leave behind).
 */
export async function classifyColumns(options: {
  readonly source: Source | null;
  readonly model: SchemaModel;
  readonly sampleRows?: number;
  readonly shouldSample?: (key: string, table: TableInfo) => boolean;
  /** The config's `anonymise.phoneRegions`. */
  readonly phoneRegions?: readonly string[];
}): Promise<Map<string, ClassifiedColumn>> {
  const { source, model } = options;
  const rows = options.sampleRows ?? DEFAULT_SAMPLE_ROWS;
  const result = new Map<string, ClassifiedColumn>();
  const tables = model.tables.filter((table) => table.partitionRoot === null);
  // The detectors load only once a value is read.
  let scanner: PersonalDataScanner | null = null;
  for (const table of tables) {
    const facts = exportedColumns(table).map((column) => describeColumn(model, table, column));
    const toSample = facts.filter(
      (fact) =>
        source !== null &&
        rows > 0 &&
        SAMPLED_FAMILIES.has(fact.family) &&
        // Integers are read only for card and phone numbers stored as numbers.
        (fact.family !== 'integer' || fact.column.baseType.endsWith('int8')) &&
        (options.shouldSample?.(fact.qualified, table) ?? true),
    );
    const samples =
      source && toSample.length > 0
        ? await sampleColumnValues(
            source,
            table,
            toSample.map((fact) => fact.column),
            rows,
          )
        : new Map<string, TextValue[]>();
    if (samples.size > 0) scanner ??= await allDetectorsScanner([], { phoneRegions: options.phoneRegions });
    for (const fact of facts) {
      const sample = samples.get(fact.column.name) ?? null;
      const byName = classifyByName(fact);
      const verdict =
        sample && scanner ? mergeVerdicts(byName, classifyValues(fact, sample, scanner)) : byName;
      result.set(fact.qualified, { key: fact.qualified, facts: fact, verdict, sample });
    }
  }
  return result;
}
