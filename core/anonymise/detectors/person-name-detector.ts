import type { Detector } from './detector.js';
import { type NameDictionaries, nameDictionaries } from './name-dictionaries.js';

/** A capitalised word (`Jane`, `O’Brien`, `Smith-Jones`) or one in capitals (`JANE`). */
const WORD =
  /(?<![\p{L}\p{N}_@.])(?:\p{Lu}[\p{Ll}'’]+(?:-\p{Lu}[\p{Ll}'’]+)?|\p{Lu}{3,})(?![\p{L}\p{N}_@])/gu;
/** Two capitalised words in a row, somewhere: most texts fail this one cheap test. */
const TWO_WORDS = /\p{Lu}[\p{Ll}'’-]+ (?:\p{Lu}\. )?\p{Lu}\p{Ll}/u;
/** Between a given and a family name: one space, or a middle initial (`John F. Kennedy`). */
const BETWEEN = /^ (?:\p{Lu}\. )?$/u;

/**
 * Person names in free text, as pairs: a given name followed by a family name, both from the
 * name lists of every locale faker ships. One name alone never counts (`Smith`, `Grace`), and a
 * pair of two ordinary English words does not either (`May Day`, `Mark Brown`… and also `Will
 * Power`), which keeps titles and prose quiet at the price of a few real names.
 */
export async function personNameDetector(): Promise<Detector> {
  const names = await nameDictionaries();
  return {
    name: 'person-name',
    find(text, facts, into) {
      if (facts.uppercase < 2 || !TWO_WORDS.test(text)) return;
      WORD.lastIndex = 0;
      let previous: { word: string; start: number; end: number; given: boolean } | null = null;
      for (let match = WORD.exec(text); match !== null; match = WORD.exec(text)) {
        const word = match[0];
        const start = match.index;
        const end = start + match[0].length;
        if (
          previous?.given &&
          names.family.has(word) &&
          BETWEEN.test(text.slice(previous.end, start)) &&
          !(isCommon(names, previous.word) && isCommon(names, word))
        ) {
          into.push({ detector: 'person-name', start: previous.start, end });
          previous = null;
          continue;
        }
        previous = { word, start, end, given: names.given.has(word) };
      }
    },
  };
}

function isCommon(names: NameDictionaries, word: string): boolean {
  return names.common.has(word.toLowerCase());
}
