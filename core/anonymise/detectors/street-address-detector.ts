import { type Detector, matchAll } from './detector.js';

/** Street types that end an English street name; ambiguous ones (Park, Hill, View) are left out. */
const ENGLISH_SUFFIXES =
  'Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Place|Pl|Terrace|Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Way|Mews|Gardens|Grove|Alley|Trail|Turnpike|Expressway';
/** `221B Baker Street`, `1600 Pennsylvania Avenue NW`, `12 Old Mill Rd.` */
const ENGLISH = new RegExp(
  `(?<![\\w.,-])\\d{1,5}[A-Za-z]?(?:-\\d{1,5})?,? (?:(?:[NSEW]|North|South|East|West|Old|New) )?(?:\\p{Lu}[\\p{Ll}'’]+\\.? ){1,3}(?:${ENGLISH_SUFFIXES})\\b\\.?`,
  'gu',
);
/**
 * `Hauptstraße 5`, `Lindenweg 12a`, and Dutch `Biltstraat 12`, `Herengracht 159`, `Vondellaan 3`;
 * `Am Markt 3` is too common a phrase to count.
 */
const GERMAN =
  /(?<![\w-])\p{Lu}[\p{Ll}-]+(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|straat|laan|gracht|kade|plein|singel|dijk|steeg)(?: |, )\d{1,4}[a-z]?(?![\w])/gu;
/** `12 rue de la Paix`, `3 bis avenue Foch`, `Calle Mayor 5`, `Via Roma 12`. */
const ROMANCE =
  /(?<![\w-])(?:\d{1,4}(?: ?(?:bis|ter))?,? (?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai|route|cours) (?:(?:de la|de l'|du|des|de|d') ?)?\p{Lu}[\p{L}'-]+|(?:Calle|Avenida|Paseo|Plaza|Via|Viale|Piazza|Corso|Rua) (?:(?:de la|del|de|da|do|dos) )?\p{Lu}[\p{L}'-]+(?: \p{Lu}[\p{L}'-]+)?,? \d{1,4})(?![\w])/gu;

/** Street addresses: a house number and a street with its type, in English, German, French, Spanish, Italian and Portuguese forms. */
export const streetAddressDetector: Detector = {
  name: 'street-address',
  find(text, facts, into) {
    if (facts.digits === 0 || facts.uppercase === 0) return;
    for (const pattern of [ENGLISH, GERMAN, ROMANCE]) {
      matchAll(pattern, text, 'street-address', into, (match) => ({
        start: match.index,
        end: match.index + match[0].length,
      }));
    }
  },
};
