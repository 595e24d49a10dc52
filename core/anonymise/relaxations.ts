import type { Manifest } from '../manifest.js';
import type { AnonymiseConfig } from './anonymise-config.js';

/** A setting that weakens the anonymisation guarantee, as the manifest records it. */
export interface Relaxation {
  readonly setting: 'mode: warn' | 'sample: false' | 'verify: false';
  /** What it means for the snapshot, in words. */
  readonly effect: string;
  /** The config's `anonymise.reason`, or null when it gives none. */
  readonly reason: string | null;
}

/** The relaxations a config asks for; an empty list for the strict, verified default. */
export function relaxationsOf(config: AnonymiseConfig | undefined): Relaxation[] {
  const reason = config?.reason ?? null;
  const relaxations: Relaxation[] = [];
  if (config?.mode === 'warn') {
    relaxations.push({
      setting: 'mode: warn',
      effect:
        'personal-looking columns without a rule, and values in which verification found personal data, were published as they are',
      reason,
    });
  }
  if (config?.sample === false) {
    relaxations.push({
      setting: 'sample: false',
      effect: 'columns were classified by name and type only, without reading values',
      reason,
    });
  }
  if (config?.verify === false) {
    relaxations.push({
      setting: 'verify: false',
      effect: 'written values were not checked for personal data',
      reason,
    });
  }
  return relaxations;
}

/**
 * The warning `import` and `inspect` print for a snapshot exported with relaxed anonymisation (or
 * null): it may hold personal data, whatever the rules say.
 */
export function relaxationWarning(manifest: Pick<Manifest, 'snapshotId' | 'anonymisation'>): string | null {
  const summary = manifest.anonymisation;
  if (!summary) return null;
  const relaxations = summary.relaxations ?? (summary.mode === 'warn' ? relaxationsOf({ mode: 'warn' }) : []);
  if (relaxations.length === 0) return null;
  const reason = relaxations.find((relaxation) => relaxation.reason)?.reason;
  return `Snapshot ${manifest.snapshotId} was exported with relaxed anonymisation (${relaxations.map((r) => `${r.setting}: ${r.effect}`).join('; ')})${reason ? `, because: ${reason}` : ''}. It may hold personal data: keep it off shared machines.`;
}
