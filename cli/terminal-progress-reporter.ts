import type { ProgressEvent, ProgressReporter } from '../core/progress.js';
import { formatUnits } from './format-units.js';
import type { TableBars } from './table-progress-bars.js';

/**
 * Renders core progress for a person: one line per phase, notice and finished table; on a
 * terminal, with `bars`, a live bar per table in flight (rows of the total, throughput, ETA),
 * otherwise a live counter. Without a terminal only the plain lines, for logs.
 */
export class TerminalProgressReporter implements ProgressReporter {
  private liveLine = false;

  private readonly label: string;
  private readonly interactive: boolean;

  /**
   * `label` prefixes phase lines when several runs share one screen (the demo: export, import);
   * `interactive` (default: the stream is a terminal) turns the live counter on.
   */
  private readonly bars: TableBars | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    options: { readonly label?: string; readonly interactive?: boolean; readonly bars?: TableBars } = {},
  ) {
    this.label = options.label ?? '';
    this.interactive = options.interactive ?? Boolean(stream.isTTY);
    this.bars = this.interactive ? options.bars : undefined;
  }

  report(event: ProgressEvent): void {
    switch (event.type) {
      case 'phase':
        this.print(
          `${this.label ? `${this.label} ` : ''}• ${event.phase}${event.detail ? `: ${event.detail}` : ''}`,
        );
        break;
      case 'table-start':
        if (this.bars) {
          this.bars.start(event.table, event.estimatedRows ?? 0);
          break;
        }
        this.live(
          `${event.table}${event.estimatedRows ? ` (~${formatUnits.count(event.estimatedRows)} rows)` : ''} …`,
        );
        break;
      case 'table-progress':
        if (this.bars) this.bars.update(event.table, event.rows);
        else this.live(`${event.table}: ${formatUnits.count(event.rows)} rows …`);
        break;
      case 'table-done': {
        this.bars?.finish(event.table);
        const bytes = event.bytes > 0 ? `, ${formatUnits.bytes(event.bytes)}` : '';
        this.print(
          `  ✓ ${event.table}: ${formatUnits.count(event.rows)} rows${bytes} in ${formatUnits.duration(event.durationMs)}`,
        );
        break;
      }
      case 'transfer': {
        const rate = event.elapsedMs > 0 ? event.bytes / (event.elapsedMs / 1000) : 0;
        this.live(
          `${formatUnits.bytes(event.bytes)} of ${formatUnits.bytes(event.totalBytes)} (${formatUnits.bytes(rate)}/s)`,
        );
        break;
      }
      case 'notice':
        this.print(`! ${event.message}`);
        break;
    }
  }

  private print(line: string): void {
    this.clearLive();
    if (this.bars) this.bars.log(line);
    else this.stream.write(`${line}\n`);
  }

  private live(text: string): void {
    if (!this.interactive) return;
    this.stream.write(`\r\x1b[K    ${text}`);
    this.liveLine = true;
  }

  private clearLive(): void {
    if (!this.liveLine) return;
    this.stream.write('\r\x1b[K');
    this.liveLine = false;
  }
}
