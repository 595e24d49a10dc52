/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed pseudo-random function built for short
 * inputs, here over the UTF-8 bytes of a string with a 128-bit key. The fast fake generators key
 * their picks with it: a value needs a few dozen unpredictable bits, and SipHash gives 64 of them
 * for about a quarter of the work of an HMAC-SHA256. Its key is derived from the rule's HMAC key, so
 * outputs remain a function of (secret, rule, value) that nobody without the secret can compute.
 *
 * 64-bit words live in pairs of 32-bit locals (JavaScript has no fast 64-bit integers) and nothing
 * is allocated per call for ASCII inputs. Checked against the reference implementation's vectors
 * and against the `siphash` package in test/unit/keyed-hashing.test.ts.
 */
export class SipHash24 {
  private readonly k0h: number;
  private readonly k0l: number;
  private readonly k1h: number;
  private readonly k1l: number;
  /** High and low 32 bits of the last hash. */
  high = 0;
  low = 0;

  /** `key`: 16 bytes, read as two little-endian 64-bit words (as the reference does). */
  constructor(key: Uint8Array) {
    if (key.length < 16) throw new RangeError('SipHash needs a 16-byte key');
    this.k0l = readLittle(key, 0);
    this.k0h = readLittle(key, 4);
    this.k1l = readLittle(key, 8);
    this.k1h = readLittle(key, 12);
  }

  /** Hashes the UTF-8 bytes of `input`; the result is in `high` and `low` (unsigned). */
  hash(input: string): void {
    const length = input.length;
    if (scratch.length < length + 8) scratch = new Uint8Array(Math.max(length + 8, scratch.length * 2));
    for (let i = 0; i < length; i++) {
      const code = input.charCodeAt(i);
      if (code > 0x7f) {
        const bytes = Buffer.from(input, 'utf8');
        if (scratch.length < bytes.length + 8) scratch = new Uint8Array(bytes.length + 8);
        scratch.set(bytes);
        this.hashBytes(scratch, bytes.length);
        return;
      }
      scratch[i] = code;
    }
    this.hashBytes(scratch, length);
  }

  /** Hashes the first `length` bytes of `bytes`. */
  private hashBytes(bytes: Uint8Array, length: number): void {
    let v0h = this.k0h ^ 0x736f6d65;
    let v0l = this.k0l ^ 0x70736575;
    let v1h = this.k1h ^ 0x646f7261;
    let v1l = this.k1l ^ 0x6e646f6d;
    let v2h = this.k0h ^ 0x6c796765;
    let v2l = this.k0l ^ 0x6e657261;
    let v3h = this.k1h ^ 0x74656462;
    let v3l = this.k1l ^ 0x79746573;
    // Whole 8-byte words, then the last one (the remaining bytes and the length's low byte on
    // top), then the finalisation: v2 ^= 0xff and four rounds, through the same round code.
    const whole = length - (length % 8);
    for (let at = 0; ; at += 8) {
      let ml = 0;
      let mh = 0;
      let rounds = 2;
      if (at < whole) {
        ml = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
        mh = bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 24);
      } else if (at === whole) {
        mh = (length & 0xff) << 24;
        for (let i = at; i < length; i++) {
          const shift = (i - at) * 8;
          if (shift < 32) ml |= bytes[i]! << shift;
          else mh |= bytes[i]! << (shift - 32);
        }
      } else {
        v2l ^= 0xff;
        rounds = 4;
      }
      v3h ^= mh;
      v3l ^= ml;
      for (let round = 0; round < rounds; round++) {
        // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
        let lo = (v0l + v1l) | 0;
        v0h = (v0h + v1h + (lo >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
        v0l = lo;
        let h = (v1h << 13) | (v1l >>> 19);
        v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
        v1h = h ^ v0h;
        h = v0h;
        v0h = v0l;
        v0l = h;
        // v2 += v3; v3 <<<= 16; v3 ^= v2
        lo = (v2l + v3l) | 0;
        v2h = (v2h + v3h + (lo >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
        v2l = lo;
        h = (v3h << 16) | (v3l >>> 16);
        v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
        v3h = h ^ v2h;
        // v0 += v3; v3 <<<= 21; v3 ^= v0
        lo = (v0l + v3l) | 0;
        v0h = (v0h + v3h + (lo >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
        v0l = lo;
        h = (v3h << 21) | (v3l >>> 11);
        v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
        v3h = h ^ v0h;
        // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
        lo = (v2l + v1l) | 0;
        v2h = (v2h + v1h + (lo >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
        v2l = lo;
        h = (v1h << 17) | (v1l >>> 15);
        v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
        v1h = h ^ v2h;
        h = v2h;
        v2h = v2l;
        v2l = h;
      }
      if (rounds === 4) break;
      v0h ^= mh;
      v0l ^= ml;
    }
    this.high = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
    this.low = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  }
}

/** The bytes being hashed (hash() runs to completion on one thread). */
let scratch = new Uint8Array(256);

function readLittle(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}
