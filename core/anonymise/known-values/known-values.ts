import type { DetectedSpan, Detector } from '../detectors/detector.js';
import type { DetectorName } from '../detectors/detector-names.js';
import type { FindOptions, KnownValueIndex } from './known-value-index.js';
import { CAPITALISED_KINDS, KIND_DETECTOR } from './personal-value-kind.js';

/** The fake a source's rule gives one of its values (null when the rule gives none). */
export type KnownValueReplacer = (value: string) => string | null;

/**
 * An export's known-value index with, per source, the rule that anonymises its values there, so
 * that `scrub()` replaces "Jane" in free text with the very fake `auth_user.first_name` holds.
 */
export class KnownValues {
  private replacers: readonly KnownValueReplacer[] = [];

  constructor(readonly index: KnownValueIndex) {}

  /** Set once every rule is bound (before any row is read). */
  setReplacers(replacers: readonly KnownValueReplacer[]): void {
    this.replacers = replacers;
  }

  /**
   * The source rule's fake for `found` (as the text writes it), or null. Names in capitals are
   * faked as the column holds them (`JANE` as `Jane`) and given back in capitals.
   */
  replace(source: number, found: string): string | null {
    const replacer = this.replacers[source];
    const kind = this.index.sources[source]?.kind;
    if (!replacer || !kind) return null;
    const shouting = CAPITALISED_KINDS.has(kind) && found === found.toUpperCase() && /\p{Lu}{2}/u.test(found);
    if (!shouting) return nonEmpty(replacer(found));
    const output = nonEmpty(
      replacer(
        found
          .toLowerCase()
          .replace(/(^|[^\p{L}])(\p{L})/gu, (_, before, letter) => before + letter.toUpperCase()),
      ),
    );
    return output === null ? null : output.toUpperCase();
  }

  /**
   * A detector over the index, for scanners: finds of detectors in `allow` are left out; with
   * `wholeSequences` only finds of two words or more count (a single word that a rule rewrote
   * may be faked into itself, by chance).
   */
  detector(allow: ReadonlySet<string>, options: FindOptions = {}): Detector | null {
    const wanted = (detector: DetectorName) => !allow.has(detector);
    if (!Object.values(KIND_DETECTOR).some(wanted)) return null;
    const { index } = this;
    return {
      name: 'known-value',
      find(text: string, _facts, into: DetectedSpan[]) {
        index.find(text, into, (kind) => wanted(KIND_DETECTOR[kind]), options);
      },
    };
  }
}

function nonEmpty(value: string | null): string | null {
  return value === null || value === '' ? null : value;
}
