import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../core/anonymise/hmac-sha256.js';
import { SipHash24 } from '../../core/anonymise/sip-hash.js';
import { UniqueClaims } from '../../core/anonymise/unique-claims.js';

// An independent implementation (jedisct1/siphash-js), as an oracle only: too slow to use.
const siphash = createRequire(import.meta.url)('siphash') as {
  hash(key: number[], message: string | Uint8Array): { h: number; l: number };
};

const hex = (high: number, low: number) =>
  high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');

describe('HmacSha256', () => {
  it('gives exactly node:crypto digests for any text and key length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'grapheme' }),
        ),
        (key, input) => {
          const expected = createHmac('sha256', key).update(input).digest('hex');
          expect(new HmacSha256(key).digest(input).toString('hex')).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('crosses every block boundary and the long-input path without a wrong digest', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const hmac = new HmacSha256(key);
    for (let length = 0; length <= 700; length++) {
      const input = 'x'.repeat(length);
      expect(hmac.digest(input).toString('hex')).toBe(createHmac('sha256', key).update(input).digest('hex'));
    }
  });
});

describe('SipHash24', () => {
  it('matches the reference vectors (key 00…0f; messages 00…n-1)', () => {
    const sip = new SipHash24(Uint8Array.from({ length: 16 }, (_, i) => i));
    sip.hash('');
    expect(hex(sip.high, sip.low)).toBe('726fdb47dd0e0e31');
    sip.hash(String.fromCharCode(...Array.from({ length: 15 }, (_, i) => i)));
    expect(hex(sip.high, sip.low)).toBe('a129ca6149be45e5');
  });

  it('agrees with the siphash package on any key and any text (UTF-8 bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.string({ unit: 'grapheme' }),
        (key, input) => {
          const words = [0, 4, 8, 12].map((at) => Buffer.from(key).readUInt32LE(at));
          const reference = siphash.hash(words, Buffer.from(input, 'utf8'));
          const sip = new SipHash24(key);
          sip.hash(input);
          expect(hex(sip.high, sip.low)).toBe(hex(reference.h >>> 0, reference.l >>> 0));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('UniqueClaims', () => {
  it('lets each output belong to one input, case-insensitively, through many table growths', () => {
    const claims = new UniqueClaims();
    for (let i = 0; i < 200_000; i++) expect(claims.claim(`Name.${i}@Example.com`, `input ${i}`)).toBe(true);
    // The same input may claim its output again; another input may not, in any case.
    expect(claims.claim('Name.7@Example.com', 'input 7')).toBe(true);
    expect(claims.claim('name.7@example.COM', 'input 7')).toBe(true);
    expect(claims.claim('NAME.7@EXAMPLE.COM', 'input 8')).toBe(false);
    expect(claims.claim('Zoë.7@example.com', 'input 9')).toBe(true);
    expect(claims.claim('ZOË.7@EXAMPLE.COM', 'input 10')).toBe(false);
  });
});
