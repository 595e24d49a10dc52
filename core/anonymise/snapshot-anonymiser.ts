import { createHmac, randomBytes } from 'node:crypto';
import { didYouMean } from '../config/did-you-mean.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { virtualKeyReferences } from '../config/virtual-relation-resolver.js';
import { StoreError, UsageError } from '../errors.js';
import type { ManifestAnonymisation, ManifestColumnTreatment } from '../manifest.js';
import type { ProgressReporter } from '../progress.js';
import {
  type ColumnInfo,
  exportedColumns,
  qualifiedName,
  type SchemaModel,
  type TableInfo,
} from '../schema/schema-model.js';
import type { Source, TextValue } from '../source/source.js';
import type { RowSelection } from '../subset/row-selection.js';
import { textPiece } from './anonymise-column.js';
import {
  type AnonymiseMode,
  anonymiseMode,
  type ColumnTreatment,
  columnKey,
  columnTreatments,
  sampleRows,
  treatmentAction,
} from './anonymise-config.js';
import { resolveSecret, type SecretSource, type SecretsManagerReader } from './anonymise-secret.js';
import type { Anonymiser, AnonymiserTools, RowValues, RuleKey, ValueFunction } from './anonymiser.js';
import { type ClassifiedColumn, classifyColumns } from './column-classification.js';
import { classifyValues } from './column-classifier.js';
import { ColumnTransform } from './column-transform.js';
import type { Detector } from './detectors/detector.js';
import { DETECTOR_NAMES, type PatternDetectorName } from './detectors/detector-names.js';
import { allDetectorsScanner, loadDetectors } from './detectors/load-detectors.js';
import { ordinaryWords } from './detectors/name-dictionaries.js';
import { PersonalDataScanner } from './detectors/personal-data-scanner.js';
import {
  type ColumnVerificationResult,
  ColumnVerifier,
  TableVerification,
  type VerificationScanners,
  verifiesFamily,
} from './export-verification.js';
import { formatJson, parseJson, unchangedLeaves } from './json-text.js';
import { KeyedHash } from './keyed-hash.js';
import { KnownValueIndex } from './known-values/known-value-index.js';
import {
  type IndexedSource,
  knownValueSources,
  readKnownValues,
} from './known-values/known-value-sources.js';
import { type KnownValueReplacer, KnownValues } from './known-values/known-values.js';
import { PersonalDataFoundError, verificationFix } from './personal-data-found-error.js';
import { PersonalDataError, type UnresolvedColumn, unresolvedColumns } from './personal-data-gate.js';
import { type Relaxation, relaxationsOf } from './relaxations.js';
import { RowCursor } from './row-cursor.js';
import { UniqueClaims } from './unique-claims.js';

export interface SnapshotAnonymiserOptions {
  readonly source: Source;
  readonly model: SchemaModel;
  readonly config: ResolvedConfig;
  readonly selection: RowSelection;
  readonly reporter: ProgressReporter;
  /** Where `{ env: … }` secrets are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Injected in tests; the AWS SDK otherwise. */
  readonly secretsManager?: SecretsManagerReader;
  /**
   * Sample values of these tables only (`schema.table`); default all. A worker of a distributed
   * export samples just its own table: the plan step already applied the gate to every table.
   */
  readonly sampleTables?: readonly string[];
  /**
   * The known-value index (the source's own personal values, see KnownValueIndex): built here by
   * reading the sources' tables (default), or, for a distributed export's worker, read with
   * `stored` from where the plan step put it. `runKey` keys its digests together with the
   * secret, so plan and workers agree while no file alone can be tested against guesses.
   */
  readonly knownValues?: { readonly runKey: string; readonly stored?: () => Promise<Uint8Array | null> };
}

/**
 * Anonymisation for one export. `prepare` does everything that can refuse the export before a
 * byte is written — resolve every column's treatment, classify every column (names, types and a
 * sample of values), apply the strict gate, read the secret, bind every rule — and the export
 * then pipes each table's batches through `transform`.
 */
export class SnapshotAnonymiser {
  private constructor(
    private readonly treatments: ReadonlyMap<string, ColumnTreatment>,
    private readonly classified: ReadonlyMap<string, ClassifiedColumn>,
    private readonly transforms: ReadonlyMap<string, ColumnTransform>,
    private readonly mode: AnonymiseMode,
    private readonly secretSource: SecretSource,
    private readonly unresolved: readonly UnresolvedColumn[],
    /** Every detector, or null when the config turned export-time verification off. */
    private readonly detectors: ReadonlyMap<PatternDetectorName, Detector> | null,
    private readonly reporter: ProgressReporter,
    private readonly relaxations: readonly Relaxation[],
    private readonly knownValues: KnownValues | null,
  ) {}

  private readonly scanners = new Map<string, VerificationScanners>();

  static async prepare(options: SnapshotAnonymiserOptions): Promise<SnapshotAnonymiser> {
    const { source, model, config, reporter } = options;
    const anonymise = config.anonymise;
    const mode = anonymiseMode(anonymise);
    const treatments = columnTreatments(anonymise, model, virtualKeyReferences(config.relations));
    // A weak or missing secret is a config problem: said before any value is read.
    const secret = await resolveSecret(anonymise?.secret, {
      env: options.env ?? process.env,
      secretsManager: options.secretsManager,
    });
    if (secret.warning) reporter.report({ type: 'notice', message: secret.warning });
    const phoneRegions = await checkPhoneRegions(anonymise?.phoneRegions);
    reporter.report({ type: 'phase', phase: 'classify' });
    const classified = await classifyColumns({
      source,
      model,
      phoneRegions,
      sampleRows: sampleRows(anonymise),
      shouldSample: (key, table) => {
        if (options.sampleTables && !options.sampleTables.includes(qualifiedName(table))) return false;
        const treatment = treatments.get(key);
        return (
          treatment?.kind === 'none' || (treatment?.kind === 'rule' && treatment.rule.kind === 'jsonPaths')
        );
      },
    });
    const unresolved = unresolvedColumns(classified, treatments);
    gate(mode, unresolved, reporter);

    const hash = secret.secret === null ? null : new KeyedHash(secret.secret);
    const sources =
      secret.secret === null ? [] : knownValueSources(treatments, (key) => classified.get(key)?.facts);
    // Built when something reads it — export-time verification, or a scrub() being bound — so
    // that an export with neither does not read the sources' tables for it.
    let building: Promise<KnownValues | null> | undefined;
    const loadKnownValues = (): Promise<KnownValues | null> => {
      building ??= (async () => {
        if (secret.secret === null || sources.length === 0) return null;
        return new KnownValues(
          await knownValueIndex(source, sources, secret.secret, reporter, options.knownValues),
        );
      })();
      return building;
    };

    const binding = new Map<string, Promise<ColumnTransform | null>>();
    const bindingNow = new Set<string>();
    const tools: AnonymiserTools = {
      key(rule: Anonymiser): RuleKey {
        if (!hash) {
          throw new UsageError(`Anonymisation rule ${rule.describe()} needs a secret, and none is set.`, {
            hint: "Set DEVSNAP_SECRET (a long random string, the same every run), or anonymise.secret: { env: '…' } / { secretsManager: 'arn:…' }.",
          });
        }
        return hash.forRule(rule);
      },
      bind: async (rule, column) => rule.bind(column, tools),
      knownValues: loadKnownValues,
      detectors: () => loadDetectors({ phoneRegions }),
      async columnTransform(table, columnName) {
        const key = columnKey(table, columnName);
        // Two rules that read each other's columns would each wait for the other to be bound.
        if (bindingNow.has(key)) {
          throw new UsageError(
            `The rule on ${key} is needed while it is being set up: two columns' rules read each other's rules.`,
            { hint: 'Give one of the two columns a rule that reads no other column (fake, hash, scrub).' },
          );
        }
        const transform = await transformFor(key);
        return transform ? (value, row) => transform.apply(value, row) : null;
      },
      exportedValues(table, columnName) {
        // Several random-foreign-key columns often point at one parent column: read it once.
        const key = columnKey(table, columnName);
        let values = exported.get(key);
        if (!values) {
          values = readExportedValues(table, columnName, key);
          exported.set(key, values);
        }
        return values;
      },
    };
    const exported = new Map<string, Promise<string[]>>();
    const readExportedValues = async (
      table: TableInfo,
      columnName: string,
      key: string,
    ): Promise<string[]> => {
      const transform = await transformFor(key);
      const columns = exportedColumns(table);
      const column = columns.find((c) => c.name === columnName);
      if (!column) throw new UsageError(`${key} is not an exported column.`);
      const read = transform?.rule.readsRow ? columns : [column];
      const position = read.indexOf(column);
      const cursor = new RowCursor(table, read);
      const values: string[] = [];
      for await (const batch of options.selection.stream(table, read)) {
        for (const row of batch) {
          cursor.point(row);
          const raw = row[position] ?? null;
          const value = transform ? transform.apply(raw, cursor) : raw;
          if (value !== null) values.push(value);
        }
      }
      return values;
    };
    const transformFor = (key: string): Promise<ColumnTransform | null> => {
      let pending = binding.get(key);
      if (!pending) {
        pending = (async () => {
          const treatment = treatments.get(key);
          if (!treatment || treatment.kind === 'none' || treatment.rule.keepReason !== undefined) return null;
          if (treatment.kind === 'follows') return transformFor(treatment.key);
          const facts = classified.get(key)?.facts;
          if (!facts) return null;
          bindingNow.add(key);
          const fn: ValueFunction = await Promise.resolve(treatment.rule.bind(facts, tools)).finally(() =>
            bindingNow.delete(key),
          );
          return new ColumnTransform(
            treatment.rule,
            fn,
            facts,
            facts.unique ? new UniqueClaims() : null,
            treatment.rule.readsRow === true,
          );
        })();
        binding.set(key, pending);
      }
      return pending;
    };
    const bound = new Map<string, ColumnTransform>();
    for (const key of treatments.keys()) {
      const transform = await transformFor(key);
      if (transform) bound.set(key, transform);
    }
    const knownValues = anonymise?.verify !== false || building ? await loadKnownValues() : null;
    knownValues?.setReplacers(
      await Promise.all(
        sources.map(async (entry): Promise<KnownValueReplacer> => {
          if (entry.path !== null) {
            const fn = await tools.bind(entry.rule, textPiece(entry.facts));
            return (value) => fn(value, valueRow(entry.facts.column.name, value), 0);
          }
          const transform = bound.get(entry.key);
          return (value) => transform?.apply(value, valueRow(entry.facts.column.name, value)) ?? null;
        }),
      ),
    );

    // What a jsonPaths rule leaves behind is classified again: personal data at a path the rule
    // does not name would otherwise pass the gate with the column.
    const leftovers: UnresolvedColumn[] = [];
    for (const [key, entry] of classified) {
      const transform = bound.get(key);
      if (transform?.rule.kind !== 'jsonPaths' || !entry.sample) continue;
      const cursor = new RowCursor(entry.facts.table, [entry.facts.column]);
      // Only values the rule left as they were count: its own fakes look personal by design.
      const after = entry.sample.map((value: TextValue) => {
        if (value === null) return null;
        cursor.point([value]);
        const output = transform.apply(value, cursor);
        return output === null ? null : formatJson(unchangedLeaves(parseJson(value), parseJson(output)));
      });
      const verdict = classifyValues(
        entry.facts,
        after,
        await allDetectorsScanner(transform.rule.allow, { phoneRegions }),
      );
      if (verdict.personal) {
        leftovers.push({
          column: key,
          reasons: verdict.reasons.map((reason) => `after ${transform.rule.describe()}, ${reason}`),
          fix: `add the paths above to its jsonPaths({ … }) rule`,
        });
      }
    }
    gate(mode, leftovers, reporter, 'still hold personal data after their JSON rules');
    const detectors = anonymise?.verify === false ? null : await loadDetectors({ phoneRegions });
    return new SnapshotAnonymiser(
      treatments,
      classified,
      bound,
      mode,
      secret.source,
      [...unresolved, ...leftovers],
      detectors,
      reporter,
      relaxationsOf(anonymise),
      knownValues,
    );
  }

  /** The known-value index as bytes, for a distributed export's workers (digests only); null without one. */
  knownValueBytes(): Uint8Array | null {
    return this.knownValues?.index.toBytes() ?? null;
  }

  /**
   * Checks for a table part's written values: one verifier per column whose values (or some of
   * them) leave the export as they came in. Null when verification is off or nothing needs it.
   */
  verifier(table: TableInfo, columns: readonly ColumnInfo[]): TableVerification | null {
    const detectors = this.detectors;
    if (!detectors) return null;
    const verifiers: ColumnVerifier[] = [];
    columns.forEach((column, index) => {
      const key = columnKey(table, column.name);
      const facts = this.classified.get(key)?.facts;
      if (!facts || !verifiesFamily(facts)) return;
      const treatment = this.treatments.get(key) ?? { kind: 'none' };
      const rule = treatment.kind === 'none' ? null : treatment.rule;
      const allow = new Set<string>(rule?.allow ?? []);
      if (DETECTOR_NAMES.every((name) => allow.has(name))) return;
      const scannerKey = [...allow].sort().join(',');
      let scanners = this.scanners.get(scannerKey);
      if (!scanners) {
        const patterns = [...detectors.values()].filter((detector) => !allow.has(detector.name));
        const known = this.knownValues?.detector(allow, { distinctCase: true }) ?? null;
        const sequences = this.knownValues?.detector(allow, { wholeSequences: true }) ?? null;
        scanners = {
          full: new PersonalDataScanner([...(known ? [known] : []), ...patterns]),
          sequences: new PersonalDataScanner([...(sequences ? [sequences] : []), ...patterns]),
          patterns: new PersonalDataScanner(patterns),
        };
        this.scanners.set(scannerKey, scanners);
      }
      const policy = !this.transforms.has(key) || rule?.verify === 'output' ? 'output' : 'unchanged';
      verifiers.push(new ColumnVerifier(facts, index, policy, scanners, rule));
    });
    return verifiers.length > 0 ? new TableVerification(verifiers) : null;
  }

  /**
   * The table's batches with every anonymised column replaced, in the exported columns' order;
   * with `verification`, every value that leaves as it came in is checked on the way.
   */
  transform(
    table: TableInfo,
    columns: readonly ColumnInfo[],
    batches: AsyncIterable<TextValue[][]>,
    verification: TableVerification | null = null,
  ): AsyncIterable<TextValue[][]> {
    const active = columns
      .map((column, index) => ({ index, transform: this.transforms.get(columnKey(table, column.name)) }))
      .filter(
        (entry): entry is { index: number; transform: ColumnTransform } => entry.transform !== undefined,
      );
    const verifiers = verification?.verifiers ?? [];
    if (active.length === 0 && verifiers.length === 0) return batches;
    // Where each verified column's output sits in `outputs` (-1: written as read).
    const outputAt = verifiers.map((verifier) => active.findIndex((entry) => entry.index === verifier.index));
    const cursor = new RowCursor(table, columns);
    const outputs: TextValue[] = new Array(active.length);
    return (async function* () {
      for await (const batch of batches) {
        for (const row of batch) {
          cursor.point(row);
          // Every rule sees the raw row: outputs are written back only after all are computed.
          for (let i = 0; i < active.length; i++) {
            const { index, transform } = active[i] as { index: number; transform: ColumnTransform };
            outputs[i] = transform.apply(row[index] ?? null, cursor);
          }
          for (let v = 0; v < verifiers.length; v++) {
            const verifier = verifiers[v] as ColumnVerifier;
            const input = row[verifier.index] ?? null;
            const at = outputAt[v] as number;
            verifier.check(input, at < 0 ? input : (outputs[at] ?? null), cursor);
          }
          for (let i = 0; i < active.length; i++)
            row[(active[i] as { index: number }).index] = outputs[i] ?? null;
        }
        yield batch;
      }
    })();
  }

  /**
   * After a table part is written: in strict mode, personal data found by verification stops the
   * export (the caller removes what was written); in warn mode each find is reported and the
   * manifest records the counts.
   */
  enforce(verification: TableVerification | null): void {
    const hits = verification?.hits() ?? [];
    if (hits.length === 0) return;
    if (this.mode === 'strict') {
      const fixes = new Map<string, string>();
      for (const column of new Set(hits.map((hit) => hit.column))) {
        const own = hits.filter((hit) => hit.column === column);
        const facts = this.classified.get(column)?.facts;
        fixes.set(
          column,
          verificationFix(
            column,
            this.treatments.get(column) ?? { kind: 'none' },
            own,
            facts?.family === 'json',
          ),
        );
      }
      throw new PersonalDataFoundError(hits, fixes);
    }
    for (const hit of hits) {
      this.reporter.report({
        type: 'notice',
        message: `anonymise mode 'warn': published ${hit.values} value${hit.values === 1 ? '' : 's'} of ${hit.column} holding ${hit.detector} (e.g. ${hit.example})`,
      });
    }
  }

  /** Whether the export writes this column's values changed (a rule other than keep, or following one). */
  rewrites(table: TableInfo, column: ColumnInfo): boolean {
    return this.transforms.has(columnKey(table, column.name));
  }

  /**
   * Whether a column of the table keeps its outputs distinct (a unique column's rule). Collisions
   * are resolved in the order values arrive, so one process must see the whole table.
   */
  keepsDistinct(table: TableInfo): boolean {
    return this.distinctTransforms(table).length > 0;
  }

  /** Keys (`schema.table.column`) of the table's own columns whose outputs stay distinct. */
  distinctKeys(table: TableInfo): string[] {
    return this.distinctTransforms(table)
      .filter((transform) => transform.column.qualified.startsWith(`${qualifiedName(table)}.`))
      .map((transform) => transform.column.qualified);
  }

  /** Keys of other tables' distinct columns that columns of this table follow (foreign keys). */
  followedKeys(table: TableInfo): string[] {
    return this.distinctTransforms(table)
      .filter((transform) => !transform.column.qualified.startsWith(`${qualifiedName(table)}.`))
      .map((transform) => transform.column.qualified);
  }

  /** Inputs of a distinct column that needed a retry, and the attempt (see ColumnTransform.retries). */
  retries(key: string): ReadonlyMap<string, number> {
    return this.transforms.get(key)?.retries ?? new Map();
  }

  /** See ColumnTransform.presetRetries. */
  presetRetries(key: string, lookup: (input: string) => number | undefined): void {
    this.transforms.get(key)?.presetRetries(lookup);
  }

  private distinctTransforms(table: TableInfo): ColumnTransform[] {
    const found = new Set<ColumnTransform>();
    for (const column of table.columns) {
      const transform = this.transforms.get(columnKey(table, column.name));
      if (transform?.distinct) found.add(transform);
    }
    return [...found];
  }

  /** The manifest's record of what happened to a column, with what verification found in it. */
  treatment(
    table: TableInfo,
    column: ColumnInfo,
    verified?: ColumnVerificationResult,
  ): ManifestColumnTreatment {
    const key = columnKey(table, column.name);
    const verdict = this.classified.get(key)?.verdict;
    return {
      ...treatmentAction(this.treatments.get(key) ?? { kind: 'none' }),
      personal: verdict?.personal ?? false,
      classifier: [...(verdict?.reasons ?? [])],
      ...(verified ? { verified: { values: verified.values, hits: { ...verified.hits } } } : {}),
    };
  }

  summary(): ManifestAnonymisation {
    let anonymised = 0;
    let kept = 0;
    for (const treatment of this.treatments.values()) {
      const { action } = treatmentAction(treatment);
      if (action === 'kept') kept++;
      else if (action === 'anonymised') anonymised++;
    }
    return {
      mode: this.mode,
      secret: this.secretSource,
      anonymisedColumns: anonymised,
      keptColumns: kept,
      unresolved: this.unresolved.map((column) => column.column),
      verification: this.detectors ? 'every-value' : 'off',
      relaxations: this.relaxations.map((relaxation) => ({ ...relaxation })),
    };
  }
}

/** A row holding one column's value: how a value found in text meets its column's rule. */
function valueRow(column: string, value: string): RowValues {
  return {
    get: (name) => (name === column ? value : null),
    toObject: () => ({ [column]: value }),
    key: () => value,
  };
}

/**
 * Builds the known-value index from the sources' tables, or reads the one a plan step stored. Its
 * key is derived from the secret and the run's key: a fresh random one when nothing else reads it.
 */
async function knownValueIndex(
  source: Source,
  sources: readonly IndexedSource[],
  secret: string,
  reporter: ProgressReporter,
  options: SnapshotAnonymiserOptions['knownValues'],
): Promise<KnownValueIndex> {
  const runKey = options?.runKey ?? randomBytes(32).toString('base64url');
  const key = createHmac('sha256', secret).update(`devsnap/known-values\0${runKey}`).digest();
  const described = sources.map(({ key: name, kind }) => ({ key: name, kind }));
  if (options?.stored) {
    const bytes = await options.stored();
    if (!bytes) {
      throw new StoreError("The export's known-value index is missing from its work folder.", {
        hint: 'The plan step writes it; start a new run of the state machine.',
      });
    }
    return KnownValueIndex.fromBytes(bytes, key, described);
  }
  reporter.report({
    type: 'phase',
    phase: 'known-values',
    detail: `${sources.length} column${sources.length === 1 ? '' : 's'} of personal values`,
  });
  const builder = KnownValueIndex.builder(described, key, await ordinaryWords());
  await readKnownValues(source, sources, builder);
  return builder.finish();
}

/** The config's phone regions, each one libphonenumber knows (a config problem otherwise). */
async function checkPhoneRegions(regions: readonly string[] | undefined): Promise<readonly string[]> {
  if (!regions || regions.length === 0) return [];
  const { getCountries } = await import('libphonenumber-js/max');
  const known: readonly string[] = getCountries();
  const unknown = regions.filter((region) => !known.includes(region));
  if (unknown.length > 0) {
    throw new UsageError(
      `anonymise.phoneRegions: ${unknown.map((region) => `${JSON.stringify(region)}${didYouMean(region, known)}`).join(', ')} ${unknown.length === 1 ? 'is not a region' : 'are not regions'} libphonenumber knows.`,
      { hint: "Name regions by their ISO 3166-1 alpha-2 code in capitals, e.g. phoneRegions: ['GB', 'IE']." },
    );
  }
  return regions;
}

function gate(
  mode: AnonymiseMode,
  unresolved: readonly UnresolvedColumn[],
  reporter: ProgressReporter,
  context?: string,
): void {
  if (unresolved.length === 0) return;
  if (mode === 'strict') throw new PersonalDataError(unresolved, context);
  for (const column of unresolved) {
    reporter.report({
      type: 'notice',
      message: `anonymise mode 'warn': exporting ${column.column} as it is although ${column.reasons.join('; ')} (fix: ${column.fix})`,
    });
  }
}
