import type { DetectorName } from './detector-names.js';

/**
 * A found value made safe to print in an error: enough to recognise its shape, never enough to
 * recover it — `j***@g***.com`, `J*** S***`, `+4*** 2*** 7*** 0***`.
 */
export function redact(detector: DetectorName, text: string): string {
  if (detector === 'email') {
    const at = text.lastIndexOf('@');
    const domain = text.slice(at + 1);
    const dot = domain.lastIndexOf('.');
    return `${text[0]}***@${domain[0]}***${domain.slice(dot)}`;
  }
  return text.replace(/[\p{L}\p{N}]+/gu, (run) => `${[...run][0]}***`);
}
