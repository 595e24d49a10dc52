import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DetectedSpan } from '../../core/anonymise/detectors/detector.js';
import { ordinaryWords } from '../../core/anonymise/detectors/name-dictionaries.js';
import {
  type FindOptions,
  KnownValueIndex,
  type KnownValueSource,
} from '../../core/anonymise/known-values/known-value-index.js';
import { survivingText } from '../../core/anonymise/surviving-text.js';

const SOURCES: readonly KnownValueSource[] = [
  { key: 'public.auth_user.first_name', kind: 'given-name' },
  { key: 'public.auth_user.last_name', kind: 'family-name' },
  { key: 'public.auth_user.username', kind: 'username' },
  { key: 'public.shop_order.shipping $.city', kind: 'city' },
  { key: 'public.shop_order.shipping $.street', kind: 'street' },
  { key: 'public.shop_order.shipping $.name', kind: 'full-name' },
  { key: 'public.shop_order.shipping $.postcode', kind: 'postcode' },
];

async function index(values: Record<number, string[]>, key = Buffer.from('unit-known-values-key')) {
  const builder = KnownValueIndex.builder(SOURCES, key, await ordinaryWords());
  for (const [source, list] of Object.entries(values))
    for (const value of list) builder.add(Number(source), value);
  return builder.finish();
}

const VALUES = {
  0: ['Yevgeny', 'Haruto', 'May', 'Li'],
  1: ['Wang', 'Davies', 'de Vries'],
  2: ['archie_g', 'sharrison', 'jkim', 'admin', 'bob'],
  3: ['Leeds', 'Newcastle upon Tyne', 'Reading', '12345'],
  4: ['Flat 2, 156 Thornfield Grove'],
  5: ['Haruto Davies', 'Sander de Vries'],
  6: ['LS9 9AA'],
};

function finds(found: KnownValueIndex, text: string, options: FindOptions = {}): string[] {
  const spans: DetectedSpan[] = [];
  found.find(text, spans, undefined, options);
  return spans.map((span) => `${SOURCES[span.source ?? -1]?.kind}:${text.slice(span.start, span.end)}`);
}

describe('the known-value index', () => {
  it('finds the source’s own values in text as whole words, longest first, capitalised where names are', async () => {
    const known = await index(VALUES);
    expect(
      finds(
        known,
        'Thanks Yevgeny! @archie_g met Haruto Davies at 156 Thornfield Grove, Leeds LS9 9AA. Newcastle upon Tyne; ask jkim.',
      ),
    ).toEqual([
      'given-name:Yevgeny',
      'username:archie_g',
      // A given and a family name: each its own column's, even where a full-name column holds the pair.
      'given-name:Haruto',
      'family-name:Davies',
      'street:156 Thornfield Grove',
      'city:Leeds',
      'postcode:LS9 9AA',
      'city:Newcastle upon Tyne',
      'username:jkim',
    ]);
    expect(finds(known, 'YEVGENY WANG and Sander de Vries')).toEqual([
      'given-name:YEVGENY',
      'family-name:WANG',
      // Sander is no given name of the source: the full-name column's value, faked as one.
      'full-name:Sander de Vries',
    ]);
  });

  it('leaves ordinary words, bare numbers, short usernames and lower-case names alone', async () => {
    const known = await index(VALUES);
    expect(
      finds(known, 'May I ask: 12345 admin bob leeds yevgeny Li? archie_g2 wrote, so did xjkim'),
    ).toEqual([]);
  });

  it('with whole sequences only, counts finds of two words or more (a given name with a family name too)', async () => {
    const known = await index(VALUES);
    expect(
      finds(known, 'Thanks Yevgeny! From Yevgeny Wang in Newcastle upon Tyne, archie_g', {
        wholeSequences: true,
      }),
    ).toEqual([
      // A pair of the given and family names columns, reported as the given name's find.
      'given-name:Yevgeny Wang',
      'city:Newcastle upon Tyne',
      'username:archie_g',
    ]);
  });

  it('with distinctCase, takes a single capitalised word for a name only where the text’s capitals say something', async () => {
    const known = await index({ ...VALUES, 1: [...VALUES[1], 'Hunter', 'Butler'] });
    const distinct = { distinctCase: true };
    // Title Case and ALL CAPS: a single name-like word is ordinary there; a given and family name are not.
    expect(finds(known, 'A Epic Drama of a Butler And a Hunter who must Battle a Teacher', distinct)).toEqual(
      [],
    );
    expect(finds(known, 'HUNTER YEVGENY', distinct)).toEqual([]);
    // A cell of one or two capitalised words (a country named like a person) says nothing either.
    expect(finds(known, 'Leeds', distinct)).toEqual([]);
    expect(finds(known, 'Leeds', {})).toEqual(['city:Leeds']);
    expect(finds(known, 'A Note From Yevgeny Wang In Leeds', distinct)).toEqual(['given-name:Yevgeny Wang']);
    expect(finds(known, 'thanks Yevgeny, the butler said Hunter was in Leeds', distinct)).toEqual([
      'given-name:Yevgeny',
      'family-name:Hunter',
      'city:Leeds',
    ]);
  });

  it('keeps digests only: the bytes hold no value, and need the key and the same sources to be read', async () => {
    const key = randomBytes(32);
    const known = await index(VALUES, key);
    const bytes = known.toBytes();
    const text = Buffer.from(bytes).toString('latin1');
    for (const value of ['Yevgeny', 'yevgeny', 'archie_g', 'Leeds', 'Thornfield', 'LS9'])
      expect(text).not.toContain(value);
    // As a store hands them back: a Buffer inside a larger pool, at an odd offset.
    const stored = Buffer.concat([Buffer.from('xyz'), bytes]).subarray(3);
    const read = KnownValueIndex.fromBytes(stored, key, SOURCES);
    expect(finds(read, 'Thanks Yevgeny from Leeds')).toEqual(['given-name:Yevgeny', 'city:Leeds']);
    expect(() => KnownValueIndex.fromBytes(bytes, randomBytes(32), SOURCES)).toThrow(/another key/);
    expect(() => KnownValueIndex.fromBytes(bytes, key, SOURCES.slice(1))).toThrow(/other columns/);
  });

  it('takes about 20 bytes per distinct value', async () => {
    const builder = KnownValueIndex.builder(SOURCES, randomBytes(32), await ordinaryWords());
    for (let i = 0; i < 100_000; i++) builder.add(2, `user${i}x`);
    const known = builder.finish();
    expect(known.size).toBe(100_000);
    expect(known.bytes / known.size).toBeLessThanOrEqual(30);
    expect(finds(known, 'ping @user99999x and user100000x')).toEqual(['username:user99999x']);
  });
});

describe('survivingText', () => {
  it('keeps the words a rule wrote back as they were, and marks the ones it replaced', () => {
    expect(
      survivingText(
        'Call Olivia Smith on 07597 116141 at {"city": "Leeds"}',
        'Call Emily Smith on +44 1234 567890 at {"city": "Springfield"}',
      ),
    ).toBe('Call • Smith on • • at {"city": "•"}');
    expect(survivingText('Olivia and Emily', 'Emily and Sophie')).toBe('• and •');
    expect(survivingText('Jane', 'Lucy')).toBeNull();
  });
});
