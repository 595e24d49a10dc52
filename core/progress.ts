/**
 * Core reports progress through this interface and never writes to the console. The CLI renders
 * it on a terminal; Lambdas log it as structured JSON; tests collect it.
 */
export type ProgressEvent =
  | { readonly type: 'phase'; readonly phase: string; readonly detail?: string }
  | { readonly type: 'table-start'; readonly table: string; readonly estimatedRows?: number }
  | {
      readonly type: 'table-progress';
      readonly table: string;
      readonly rows: number;
      readonly bytes?: number;
    }
  | {
      readonly type: 'table-done';
      readonly table: string;
      readonly rows: number;
      readonly bytes: number;
      readonly durationMs: number;
    }
  /** Bytes moved so far by a download (pull), out of the total. */
  | {
      readonly type: 'transfer';
      readonly bytes: number;
      readonly totalBytes: number;
      readonly elapsedMs: number;
    }
  | { readonly type: 'notice'; readonly message: string };

export interface ProgressReporter {
  report(event: ProgressEvent): void;
}

export const silentReporter: ProgressReporter = { report() {} };
