import { errorMessage } from '../core/errors.js';
import type { ProgressReporter } from '../core/progress.js';
import { knownSecrets, redactSecrets } from '../core/redact-secrets.js';

type Fields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * One JSON object per line on stdout, which CloudWatch Logs Insights queries by field. Only names,
 * counts, sizes and durations are logged: never a row value, a parameter or a secret.
 */
export class JsonLogger {
  constructor(
    private readonly context: Fields,
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  info(event: string, fields: Fields = {}): void {
    this.line('info', event, fields);
  }

  error(event: string, error: unknown, fields: Fields = {}): void {
    const errorName = error instanceof Error ? error.name : 'Error';
    this.line('error', event, { ...fields, errorName, error: errorMessage(error) });
  }

  private line(level: 'info' | 'error', event: string, fields: Fields): void {
    const line = JSON.stringify({ level, event, ...this.context, ...fields, time: new Date().toISOString() });
    // An error may quote a connection string; credentials never reach the log.
    this.write(redactSecrets(line, knownSecrets(process.env)));
  }

  /** Core's progress as log events: per table when it is done, phases, notices; no per-batch noise. */
  reporter(fields: Fields = {}): ProgressReporter {
    return {
      report: (event) => {
        if (event.type === 'table-done') {
          const { table, rows, bytes, durationMs } = event;
          this.info('table-exported', { ...fields, table, rows, bytes, durationMs });
        } else if (event.type === 'phase') {
          this.info('phase', { ...fields, phase: event.phase, detail: event.detail });
        } else if (event.type === 'notice') {
          this.info('notice', { ...fields, message: event.message });
        }
      },
    };
  }
}
