import type { MultiBar, SingleBar } from 'cli-progress';
import { formatUnits } from './format-units.js';

/** Live bars, one per table in flight (several when tables are copied in parallel), on a terminal. */
export interface TableBars {
  start(table: string, total: number): void;
  update(table: string, rows: number): void;
  /** Removes the table's bar; when none is left, the bars give the terminal back. */
  finish(table: string): void;
  /** A line printed above the bars (phases, notices, finished tables). */
  log(line: string): void;
}

/**
 * Per table: rows done of the total, a bar, throughput and ETA, e.g.
 * `public.rental  ████████░░░░░░░░  52% | 8,302 of 16,044 rows | 41,200 rows/s | ETA 0s`.
 * Drawn by cli-progress (loaded only when a terminal shows progress), which redraws several bars
 * in place and throttles redraws; throughput comes from the rows and time since the table started.
 */
export async function createTableBars(stream: NodeJS.WritableStream): Promise<TableBars> {
  const { default: cliProgress } = await import('cli-progress');
  let multibar: MultiBar | undefined;
  const bars = new Map<string, { bar: SingleBar; started: number }>();
  const open = (): MultiBar => {
    multibar ??= new cliProgress.MultiBar(
      {
        stream,
        format:
          '    {table} {bar} {percentage}% | {done} of {all} rows | {speed} rows/s | ETA {eta_formatted}',
        barsize: 20,
        hideCursor: true,
        clearOnComplete: true,
        fps: 10,
        etaBuffer: 50,
        // The caller decides that this is a terminal (a test or the demo may pass another stream).
        noTTYOutput: true,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
    return multibar;
  };
  const payload = (rows: number, total: number, started: number) => ({
    done: formatUnits.count(rows),
    all: formatUnits.count(total),
    speed: formatUnits.count(Math.round(rows / Math.max((performance.now() - started) / 1000, 0.001))),
  });
  return {
    start(table, total) {
      const started = performance.now();
      const bar = open().create(Math.max(total, 1), 0, { table, ...payload(0, total, started) });
      bars.set(table, { bar, started });
    },
    update(table, rows) {
      const entry = bars.get(table);
      if (!entry) return;
      const total = Math.max(entry.bar.getTotal(), rows);
      if (total !== entry.bar.getTotal()) entry.bar.setTotal(total);
      entry.bar.update(rows, payload(rows, total, entry.started));
    },
    finish(table) {
      const entry = bars.get(table);
      if (!entry) return;
      bars.delete(table);
      multibar?.remove(entry.bar);
      if (bars.size === 0) {
        multibar?.stop();
        multibar = undefined;
      }
    },
    log(line) {
      if (multibar) multibar.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
  };
}
