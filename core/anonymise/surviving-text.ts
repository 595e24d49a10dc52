import { words } from './known-values/token-digests.js';

/** Stands in for a word a rule replaced: it joins nothing a detector reads as one value. */
const GONE = '\u2022';
/** A replacement may be several words long (a fake street for a city): look this far ahead. */
const LOOKAHEAD = 12;

/**
 * What of `input` a rule that rewrites parts of a text (scrub(), djangoSerialized()) wrote back as
 * it was: `input` with every word that does not reappear in `output`, in order, replaced by a
 * mark — so what verification checks is the input's own words, never the rule's fakes. Null when
 * no word survived.
 */
export function survivingText(input: string, output: string): string | null {
  const before = words(input);
  const after = words(output);
  const written = after.starts.map((start, i) => output.slice(start, after.ends[i]));
  let next = 0;
  let survived = 0;
  let text = '';
  let at = 0;
  for (let i = 0; i < before.starts.length; i++) {
    const start = before.starts[i] as number;
    const end = before.ends[i] as number;
    const word = input.slice(start, end);
    let found = -1;
    for (let j = next; j < Math.min(written.length, next + LOOKAHEAD); j++) {
      if (written[j] === word) {
        found = j;
        break;
      }
    }
    text += input.slice(at, start) + (found >= 0 ? word : GONE);
    at = end;
    if (found >= 0) {
      next = found + 1;
      survived++;
    }
  }
  return survived === 0 ? null : text + input.slice(at);
}
