import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTableBars } from '../../cli/table-progress-bars.js';
import { TerminalProgressReporter } from '../../cli/terminal-progress-reporter.js';

/** A stream that records what is written to it, posing as a terminal when asked. */
function capture(tty: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty, columns: 140 });
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

/** Waits until the output holds `pattern`: the bars redraw on their own timer, not on each update. */
async function until(read: () => string, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200 && !pattern.test(read()); i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  return read();
}

describe('progress a person can read', () => {
  it('on a terminal: a bar per table with rows of the total, percentage, throughput and ETA', async () => {
    const out = capture(true);
    const reporter = new TerminalProgressReporter(out.stream, {
      interactive: true,
      bars: await createTableBars(out.stream),
    });
    reporter.report({ type: 'phase', phase: 'schema', detail: 'pre-data' });
    reporter.report({ type: 'table-start', table: 'public.orders', estimatedRows: 20_000 });
    reporter.report({ type: 'table-start', table: 'public.users', estimatedRows: 300 });
    reporter.report({ type: 'table-progress', table: 'public.orders', rows: 10_000 });
    const drawn = await until(
      out.text,
      /public\.orders .*50% \| 10,000 of 20,000 rows \| [\d,]+ rows\/s \| ETA +\d+s/,
    );
    expect(drawn).toMatch(/public\.orders .*50% \| 10,000 of 20,000 rows \| [\d,]+ rows\/s \| ETA +\d+s/);
    expect(drawn).toMatch(/public\.users .* 0% \| 0 of 300 rows/);
    expect(drawn).toContain('• schema: pre-data\n');
    reporter.report({ type: 'table-done', table: 'public.users', rows: 300, bytes: 0, durationMs: 12 });
    reporter.report({ type: 'table-done', table: 'public.orders', rows: 20_000, bytes: 0, durationMs: 480 });
    const done = await until(out.text, /✓ public\.orders: 20,000 rows in 480 ms/);
    expect(done).toContain('✓ public.users: 300 rows in 12 ms');
    expect(done).toContain('✓ public.orders: 20,000 rows in 480 ms');
    // With the last table done the bars are gone and the cursor is back.
    expect(done).toContain('\x1b[?25h');
  });

  it('without a terminal: plain lines only, no bars and no escape codes', async () => {
    const out = capture(false);
    const reporter = new TerminalProgressReporter(out.stream, { interactive: false });
    reporter.report({ type: 'phase', phase: 'schema', detail: 'pre-data' });
    reporter.report({ type: 'table-start', table: 'public.orders', estimatedRows: 20_000 });
    reporter.report({ type: 'table-progress', table: 'public.orders', rows: 10_000 });
    reporter.report({
      type: 'table-done',
      table: 'public.orders',
      rows: 20_000,
      bytes: 2048,
      durationMs: 480,
    });
    reporter.report({ type: 'notice', message: 'Ended 1 other session.' });
    expect(out.text()).toBe(
      '• schema: pre-data\n  ✓ public.orders: 20,000 rows, 2.00 KiB in 480 ms\n! Ended 1 other session.\n',
    );
  });
});
