import { fileURLToPath } from 'node:url';
import { describeColumn } from '../core/anonymise/anonymise-column.js';
import type { AnonymiserTools, RowValues } from '../core/anonymise/anonymiser.js';
import { ColumnTransform } from '../core/anonymise/column-transform.js';
import { loadDetectors } from '../core/anonymise/detectors/load-detectors.js';
import { KeyedHash } from '../core/anonymise/keyed-hash.js';
import { UniqueClaims } from '../core/anonymise/unique-claims.js';
import type { ColumnInfo, SchemaModel, TableInfo } from '../core/schema/schema-model.js';
import { fake } from '../strategies/anonymisers/fake-anonymiser.js';

/** One generator's throughput: distinct inputs through the engine as the export runs it. */
export interface FakeThroughput {
  readonly generator: string;
  readonly values: number;
  /** Values per second of CPU time on one core (the engine runs on one thread). */
  readonly valuesPerCpuSecond: number;
  /** On the unique column, every input must have its own output. */
  readonly distinctOutputs: number;
  /** The longest output: length-aware means within the column's varchar(n). */
  readonly maxLength: number;
}

/** The bench's common generators, on columns shaped like the demo's (varchar limits, a unique email). */
const GENERATORS = [
  { generator: 'person.firstName', rule: fake('person.firstName'), type: 'varchar(50)', unique: false },
  { generator: 'person.lastName', rule: fake('person.lastName'), type: 'varchar(50)', unique: false },
  { generator: 'internet.email', rule: fake('internet.email'), type: 'varchar(254)', unique: true },
  {
    generator: 'phone.number',
    rule: fake('phone.number', { args: { style: 'international' } }),
    type: 'varchar(32)',
    unique: false,
  },
  { generator: 'location.streetAddress', rule: fake('location.streetAddress'), type: 'text', unique: false },
] as const;

function columnFacts(type: string, unique: boolean) {
  const value: ColumnInfo = {
    name: 'value',
    position: 2,
    dataType: type === 'text' ? 'text' : `character varying(${type.slice(8, -1)})`,
    baseType: type === 'text' ? 'text' : 'varchar',
    isArray: false,
    nullable: true,
    defaultExpression: null,
    identity: null,
    generatedExpression: null,
    collation: null,
  };
  const table = {
    schema: 'public',
    name: 'people',
    kind: 'table',
    columns: [{ ...value, name: 'id', position: 1, dataType: 'bigint', baseType: 'int8' }, value],
    primaryKey: { name: 'people_pkey', columns: ['id'], definition: 'PRIMARY KEY (id)' },
    uniqueConstraints: unique
      ? [{ name: 'people_value_key', columns: ['value'], definition: 'UNIQUE (value)' }]
      : [],
    foreignKeys: [],
    checkConstraints: [],
    indexes: [],
  } as unknown as TableInfo;
  const model = { tables: [table], domains: [], enums: [] } as unknown as SchemaModel;
  return describeColumn(model, table, value);
}

const NO_ROW: RowValues = { get: () => null, toObject: () => ({}), key: () => '' };

/**
 * Runs `values` distinct inputs through each common generator — bound and wrapped in a
 * ColumnTransform exactly as an export binds it (keyed by a secret, unique claims on the unique
 * column, outputs fitted to varchar(n)) — and measures values per CPU second. Distinct inputs defeat
 * the per-column memo, so this is the engine's worst case (a unique email column).
 */
export async function measureFakeThroughput(values = 300_000): Promise<FakeThroughput[]> {
  const hash = new KeyedHash('devsnap-bench-secret-0123456789abcdef');
  const tools: AnonymiserTools = {
    key: (rule) => hash.forRule(rule),
    bind: async (rule, column) => rule.bind(column, tools),
    exportedValues: async () => [],
    columnTransform: async () => null,
    knownValues: async () => null,
    detectors: () => loadDetectors(),
  };
  const inputs = Array.from({ length: values }, (_, i) => `person ${i} <someone.${i * 7919}@mail.example>`);
  const results: FakeThroughput[] = [];
  for (const { generator, rule, type, unique } of GENERATORS) {
    const column = columnFacts(type, unique);
    const bind = async () =>
      new ColumnTransform(
        rule,
        await rule.bind(column, tools),
        column,
        unique ? new UniqueClaims() : null,
        false,
      );
    const transform = await bind();
    // Warm up the JIT on other inputs, so the measurement is of steady state.
    for (let i = 0; i < 20_000; i++) transform.apply(`warm-up ${i}`, NO_ROW);
    // Outputs are not kept while timing (an export drops them batch by batch): a checksum stands in.
    let checksum = 0;
    let maxLength = 0;
    const started = process.cpuUsage();
    for (let i = 0; i < values; i++) {
      const output = transform.apply(inputs[i]!, NO_ROW) as string;
      checksum = (Math.imul(checksum, 31) + output.length + output.charCodeAt(output.length - 1)) | 0;
      if (output.length > maxLength) maxLength = output.length;
    }
    const used = process.cpuUsage(started);
    // Again, untimed, with a rule bound anew: the same outputs (deterministic), each input its own
    // output on the unique column.
    const again = await bind();
    const outputs = new Set<string>();
    let repeated = 0;
    for (let i = 0; i < values; i++) {
      const output = again.apply(inputs[i]!, NO_ROW) as string;
      repeated = (Math.imul(repeated, 31) + output.length + output.charCodeAt(output.length - 1)) | 0;
      outputs.add(output);
    }
    if (repeated !== checksum) throw new Error(`${generator}: a second run gave other fakes`);
    const seconds = (used.user + used.system) / 1e6;
    results.push({
      generator,
      values,
      valuesPerCpuSecond: values / seconds,
      distinctOutputs: outputs.size,
      maxLength,
    });
  }
  return results;
}

// `npx tsx bench/fake-throughput.ts [values]` prints one JSON line per generator.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const result of await measureFakeThroughput(Number(process.argv[2] ?? 300_000))) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}
