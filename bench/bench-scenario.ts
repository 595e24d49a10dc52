import type { DemoSummary } from '../demo/demo-database.js';
import type { EmbeddedServer } from '../tools/embedded-postgres-server.js';
import type { PgClientTools } from './pg-client-tools.js';

/** What one scenario measured. Absent numbers were not measured, never zero. */
export interface BenchMeasurement {
  readonly scenario: string;
  readonly status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  readonly reason?: string;
  /** Wall-clock time, including process start-up for child processes. */
  readonly durationMs?: number;
  /** Output size: dump file, snapshot directory, or COPY text. */
  readonly bytes?: number;
  /** Peak resident set size of the measured process. */
  readonly peakRssBytes?: number;
  readonly rows?: number;
  /** Scenario-specific facts kept in the JSON results (e.g. the tool's own reported duration). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export type ScenarioOutcome = Omit<BenchMeasurement, 'scenario' | 'status' | 'reason'>;

/** Thrown by a scenario that cannot run here (missing tool, failed prerequisite); it is reported, not fatal. */
export class ScenarioSkipped extends Error {
  override name = 'ScenarioSkipped';
}

export interface BenchContext {
  readonly server: EmbeddedServer;
  /** Name of the database built by buildDemoDatabase; scenarios only read it. */
  readonly sourceDatabase: string;
  readonly source: DemoSummary;
  /** Scratch directory for dumps and stores, deleted when the bench ends. */
  readonly workDir: string;
  /** PostgreSQL client tools, or undefined when they are not installed. */
  readonly pgTools: PgClientTools | undefined;
  /** Results of the scenarios that ran before, by name: later scenarios build on earlier outputs. */
  readonly results: ReadonlyMap<string, BenchMeasurement>;
  /** Creates an empty database (dropping any old one of that name) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  log(message: string): void;
}

/**
 * One named measurement. New scenarios (subset export, anonymised export, …) are new entries in
 * the list in run-bench.ts; `DEVSNAP_BENCH_SCENARIOS=a,b` runs a selection.
 */
export interface BenchScenario {
  readonly name: string;
  readonly description: string;
  run(context: BenchContext): Promise<ScenarioOutcome>;
}

/** `numerator / denominator` of one metric, e.g. devsnap export time over pg_dump time. */
export interface BenchRatio {
  readonly name: string;
  readonly metric: 'durationMs' | 'bytes' | 'peakRssBytes';
  readonly numerator: string;
  readonly denominator: string;
  /** How to read the number, printed next to it. */
  readonly meaning: string;
  /** The most it may be (issue 15's goals); the bench says whether every round met it. */
  readonly goal?: number;
}
