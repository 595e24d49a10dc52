import { randomBytes } from 'node:crypto';
import type { ClassifiedColumn } from './column-classification.js';
import { categoryForName, classifyByName, classifyValues, mergeVerdicts } from './column-classifier.js';
import { loadDetectors } from './detectors/load-detectors.js';
import { ordinaryWords } from './detectors/name-dictionaries.js';
import { PersonalDataScanner } from './detectors/personal-data-scanner.js';
import { KnownValueIndex } from './known-values/known-value-index.js';
import { indexed } from './known-values/known-value-sources.js';
import { KnownValues } from './known-values/known-values.js';
import { categoryKind } from './known-values/personal-value-kind.js';

/** A region is written into the config when this share of the phone values is valid there. */
const REGION_SHARE = 0.05;
/** Phone values read per column for the inference (each national one is tried in every region). */
const VALUES_PER_COLUMN = 300;

export interface InferredPhoneRegions {
  readonly regions: readonly string[];
  /** Why, for the config's comment: `public.shop_profile.phone: GB 58%, NL 22%, IE 20% of 300 values`. */
  readonly evidence: readonly string[];
}

/**
 * The regions the sampled values of phone columns are valid in, by share: `+44 …` counts for GB,
 * a national `07597 116141` for every region libphonenumber validates it in. Regions under 5% of
 * a column's values are left out.
 */
export async function inferPhoneRegions(
  classified: ReadonlyMap<string, ClassifiedColumn>,
): Promise<InferredPhoneRegions | null> {
  const { getCountries, parsePhoneNumberFromString } = await import('libphonenumber-js/max');
  const countries = getCountries();
  const regions = new Set<string>();
  const evidence: string[] = [];
  for (const [key, entry] of classified) {
    const category = categoryForName(entry.facts.column.name, entry.facts.family, entry.facts.table.name);
    if (category?.id !== 'phone' || !entry.sample) continue;
    const values = entry.sample.filter((value): value is string => value !== null && /\d{3}/.test(value));
    const read = values.slice(0, VALUES_PER_COLUMN);
    if (read.length === 0) continue;
    // Which regions each value is valid in: its own for `+44 …`, every one that validates it else.
    const validIn: Set<string>[] = [];
    const international = new Set<string>();
    for (const value of read) {
      const regions = new Set<string>();
      try {
        if (value.trim().startsWith('+')) {
          const country = parsePhoneNumberFromString(value)?.country;
          if (country) {
            regions.add(country);
            international.add(country);
          }
        } else {
          for (const country of countries)
            if (parsePhoneNumberFromString(value, country)?.isValid()) regions.add(country);
        }
      } catch {
        // Not a number libphonenumber can read: it counts for no region.
      }
      validIn.push(regions);
    }
    // A national number is valid in many regions at once: take the fewest regions that explain the
    // values, among those the column's international numbers name when it has any (numbers people
    // write with and without their country code come from the same countries).
    const shares: { region: string; share: number }[] = [];
    const unexplained = new Set(validIn.keys());
    for (const preferred of international.size > 0 ? [true] : [false]) {
      for (;;) {
        const counts = new Map<string, number>();
        for (const index of unexplained)
          for (const region of validIn[index] ?? [])
            if (!preferred || international.has(region)) counts.set(region, (counts.get(region) ?? 0) + 1);
        const [best] = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
        if (!best || best[1] < REGION_SHARE * read.length) break;
        const [region] = best;
        let explained = 0;
        validIn.forEach((regions, index) => {
          if (regions.has(region)) explained++;
          if (regions.has(region)) unexplained.delete(index);
        });
        shares.push({ region, share: explained / read.length });
      }
    }
    if (shares.length === 0) continue;
    for (const { region } of shares) regions.add(region);
    evidence.push(
      `${key}: ${shares.map(({ region, share }) => `${region} ${Math.round(share * 100)}%`).join(', ')} of ${read.length} values`,
    );
  }
  return regions.size === 0 ? null : { regions: [...regions].sort(), evidence };
}

/**
 * Classifies the sampled values again, this time also looking for the sample's own personal
 * values — the names, usernames, emails… of columns whose names say they hold them — and with the
 * inferred phone regions: a comment column that mentions `@sharrison` or "Thanks Yevgeny!" then
 * gets scrub(), as the export's check of every written value would find them there.
 */
export async function classifyWithSampledValues(
  classified: ReadonlyMap<string, ClassifiedColumn>,
  phoneRegions: readonly string[],
): Promise<Map<string, ClassifiedColumn>> {
  const sources: {
    key: string;
    kind: NonNullable<ReturnType<typeof categoryKind>>;
    entry: ClassifiedColumn;
  }[] = [];
  for (const [key, entry] of classified) {
    if (!entry.sample || (entry.facts.family !== 'text' && entry.facts.family !== 'other')) continue;
    const category = categoryForName(entry.facts.column.name, entry.facts.family, entry.facts.table.name);
    const kind = category ? categoryKind(category.id) : undefined;
    if (indexed(kind)) sources.push({ key, kind, entry });
  }
  const detectors = [...(await loadDetectors({ phoneRegions })).values()];
  let scanner = new PersonalDataScanner(detectors);
  if (sources.length > 0) {
    const builder = KnownValueIndex.builder(
      sources.map(({ key, kind }) => ({ key, kind })),
      randomBytes(32),
      await ordinaryWords(),
    );
    sources.forEach(({ entry }, index) => {
      for (const value of entry.sample ?? []) if (value !== null) builder.add(index, value);
    });
    const known = new KnownValues(builder.finish()).detector(new Set(), { distinctCase: true });
    scanner = new PersonalDataScanner([...(known ? [known] : []), ...detectors]);
  }
  const result = new Map<string, ClassifiedColumn>();
  for (const [key, entry] of classified) {
    if (!entry.sample) {
      result.set(key, entry);
      continue;
    }
    const verdict = mergeVerdicts(
      classifyByName(entry.facts),
      classifyValues(entry.facts, entry.sample, scanner),
    );
    result.set(key, { ...entry, verdict });
  }
  return result;
}
