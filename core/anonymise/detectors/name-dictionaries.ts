/** Given and family names from every locale faker ships, and the English words they collide with. */
export interface NameDictionaries {
  readonly given: ReadonlySet<string>;
  readonly family: ReadonlySet<string>;
  /** Lower-case English words (faker's word lists, months, weekdays): `May`, `Will`, `Grace`, `Brown`. */
  readonly common: ReadonlySet<string>;
}

type Definitions = Record<string, Record<string, unknown> | undefined>;

const CALENDAR = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];

/** Words that start place names far more often than they are someone's first name (`Santa Rosa`, `North West`). */
const PLACE_WORDS = [
  'North',
  'South',
  'East',
  'West',
  'Santa',
  'San',
  'Saint',
  'Rio',
  'Port',
  'Fort',
  'Mount',
  'Lake',
  'Cape',
  'Los',
  'Las',
  'New',
  'Old',
  'Great',
  'Little',
  'Upper',
  'Lower',
  'Bay',
  'Glen',
];

let loaded: Promise<NameDictionaries> | undefined;

/**
 * Built once per process, on first use (faker's 77 locales take a quarter of a second to load),
 * so commands that never verify values never pay for them.
 */
export function nameDictionaries(): Promise<NameDictionaries> {
  loaded ??= (async () => {
    const { allLocales } = (await import('@faker-js/faker')) as unknown as {
      allLocales: Record<string, Definitions>;
    };
    const given = new Set<string>();
    const family = new Set<string>();
    for (const definitions of Object.values(allLocales)) {
      const person = definitions.person;
      addNames(given, person?.first_name);
      addNames(given, person?.middle_name);
      addNames(family, person?.last_name);
    }
    for (const word of PLACE_WORDS) given.delete(word);
    const common = new Set<string>(CALENDAR);
    for (const list of Object.values(allLocales.en?.word ?? {})) {
      if (Array.isArray(list))
        for (const word of list) if (typeof word === 'string') common.add(word.toLowerCase());
    }
    return { given, family, common };
  })();
  return loaded;
}

/** Names as faker lists them (a list, or lists by sex); single letters and two-letter names are left out. */
function addNames(into: Set<string>, names: unknown): void {
  if (Array.isArray(names)) {
    for (const name of names) {
      if (typeof name === 'string' && name.length >= 3 && /^\p{Lu}[\p{L}'’-]+$/u.test(name)) into.add(name);
    }
  } else if (names && typeof names === 'object') {
    for (const list of Object.values(names)) addNames(into, list);
  }
}

let ordinary: Promise<ReadonlySet<string>> | undefined;

/**
 * Lower-case words of ordinary English text — faker's English words, months and weekdays, and
 * English function words (stopword) — which a single-word personal value must not be (a user whose
 * first name is `The`, a city named `Reading`). Other languages' function words are left
 * out: they are given names too often (Italian `mia` is Mia).
 */
export function ordinaryWords(): Promise<ReadonlySet<string>> {
  ordinary ??= (async () => {
    const [{ common }, stopwords] = await Promise.all([nameDictionaries(), import('stopword')]);
    const words = new Set(common);
    for (const word of stopwords.eng) words.add(word.toLowerCase());
    return words;
  })();
  return ordinary;
}
