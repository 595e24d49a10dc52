/**
 * Preloaded into a measured Node process with `--import`: on exit, writes the process's peak
 * resident set size to the file named by DEVSNAP_PEAK_RSS_FILE. Exact, unlike sampling /proc from
 * outside, which can miss a short spike just before exit. Plain JavaScript, so the measured process
 * (the compiled CLI) loads no TypeScript loader.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.DEVSNAP_PEAK_RSS_FILE;
if (target) {
  process.on('exit', () => {
    // maxRSS is in kilobytes.
    writeFileSync(target, JSON.stringify({ peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
  });
}
