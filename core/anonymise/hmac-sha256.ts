import { createHash, createHmac } from 'node:crypto';

/**
 * HMAC-SHA256 under one fixed key, for the short inputs anonymisation hashes once per value.
 * The digests are exactly node:crypto's (`createHmac('sha256', key).update(input).digest()`), so
 * every output keyed by them stays what it was; the work is not. A native HMAC costs about 3 µs
 * per call however short the input (a new object, two hash contexts, a digest buffer), while here
 * the key's inner and outer blocks are hashed once, up front, and a value of up to 55 bytes costs
 * two SHA-256 compressions in plain JavaScript — three to four times faster. Inputs longer than
 * LONG_INPUT bytes go to node:crypto, which is faster per byte.
 */
export class HmacSha256 {
  /** SHA-256 state after the key's inner (ipad) block, and after its outer (opad) block. */
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);

  constructor(private readonly key: Uint8Array) {
    const block = new Uint8Array(64);
    const keyBytes = key.length > 64 ? createHashKey(key) : key;
    for (const [state, pad] of [
      [this.inner, 0x36],
      [this.outer, 0x5c],
    ] as const) {
      for (let i = 0; i < 64; i++) block[i] = (keyBytes[i] ?? 0) ^ pad;
      for (let i = 0; i < 16; i++) BLOCK[i] = readWord(block, i * 4);
      compress(INITIAL_STATE, BLOCK, state);
    }
  }

  /** HMAC-SHA256 of the UTF-8 bytes of `input`: a new 32-byte Buffer. */
  digest(input: string): Buffer {
    const digest = Buffer.allocUnsafe(32);
    this.digestInto(input, digest);
    return digest;
  }

  /** Writes the digest of `input` into the first 32 bytes of `out`, allocating nothing for short inputs. */
  digestInto(input: string, out: Uint8Array): void {
    const length = input.length;
    if (length <= SINGLE_BLOCK_BYTES && isAscii(input)) {
      BLOCK.fill(0);
      for (let i = 0; i < length; i++) BLOCK[i >> 2]! |= input.charCodeAt(i) << (24 - ((i & 3) << 3));
      this.finish(BLOCK, length, length);
    } else {
      const bytes = Buffer.from(input, 'utf8');
      if (bytes.length > LONG_INPUT) {
        out.set(createHmac('sha256', this.key).update(bytes).digest());
        return;
      }
      this.digestBytes(bytes);
    }
    for (let i = 0; i < 8; i++) {
      const word = RUNNING[i]!;
      out[i * 4] = word >>> 24;
      out[i * 4 + 1] = (word >>> 16) & 0xff;
      out[i * 4 + 2] = (word >>> 8) & 0xff;
      out[i * 4 + 3] = word & 0xff;
    }
  }

  /** Leaves the digest of `bytes` in RUNNING. */
  private digestBytes(bytes: Uint8Array): void {
    let state: Int32Array = this.inner;
    let at = 0;
    // Whole blocks first; the rest, the 0x80 marker and the bit length go in the last one or two.
    for (; bytes.length - at >= 64; at += 64) {
      for (let i = 0; i < 16; i++) BLOCK[i] = readWord(bytes, at + i * 4);
      compress(state, BLOCK, RUNNING);
      state = RUNNING;
    }
    BLOCK.fill(0);
    const rest = bytes.length - at;
    for (let i = 0; i < rest; i++) BLOCK[i >> 2]! |= bytes[at + i]! << (24 - ((i & 3) << 3));
    if (state === RUNNING) {
      STARTED.set(RUNNING);
      this.finish(BLOCK, rest, bytes.length, STARTED);
    } else this.finish(BLOCK, rest, bytes.length);
  }

  /**
   * Pads the last `used` bytes of `block`, ends the inner hash from `from`, then the outer hash;
   * the digest is left in RUNNING.
   */
  private finish(block: Int32Array, used: number, total: number, from: Int32Array = this.inner): void {
    block[used >> 2]! |= 0x80 << (24 - ((used & 3) << 3));
    const bits = (64 + total) * 8;
    if (used > SINGLE_BLOCK_BYTES) {
      compress(from, block, RUNNING);
      block.fill(0);
      block[14] = Math.floor(bits / 0x100000000);
      block[15] = bits | 0;
      compress(RUNNING, block, INNER_DIGEST);
    } else {
      block[14] = Math.floor(bits / 0x100000000);
      block[15] = bits | 0;
      compress(from, block, INNER_DIGEST);
    }
    for (let i = 0; i < 8; i++) OUTER_BLOCK[i] = INNER_DIGEST[i]!;
    compress(this.outer, OUTER_BLOCK, RUNNING);
  }
}

/** Bytes of input that fit in the one block after the key's (with the 0x80 marker and the length). */
const SINGLE_BLOCK_BYTES = 55;
const LONG_INPUT = 512;

const INITIAL_STATE = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const ROUND_CONSTANTS = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

// Scratch space shared by every instance: digest() runs to completion on one thread.
const SCHEDULE = new Int32Array(64);
const BLOCK = new Int32Array(16);
const OUTER_BLOCK = new Int32Array([0, 0, 0, 0, 0, 0, 0, 0, 0x80000000 | 0, 0, 0, 0, 0, 0, 0, (64 + 32) * 8]);
const RUNNING = new Int32Array(8);
const STARTED = new Int32Array(8);
const INNER_DIGEST = new Int32Array(8);

/** One SHA-256 compression of a 16-word block from `state` into `out` (FIPS 180-4, 6.2.2). */
function compress(state: Int32Array, block: Int32Array, out: Int32Array): void {
  const w = SCHEDULE;
  for (let i = 0; i < 16; i++) w[i] = block[i]!;
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + ROUND_CONSTANTS[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = (state[0]! + a) | 0;
  out[1] = (state[1]! + b) | 0;
  out[2] = (state[2]! + c) | 0;
  out[3] = (state[3]! + d) | 0;
  out[4] = (state[4]! + e) | 0;
  out[5] = (state[5]! + f) | 0;
  out[6] = (state[6]! + g) | 0;
  out[7] = (state[7]! + h) | 0;
}

function readWord(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** HMAC hashes a key longer than the block size first (RFC 2104). */
function createHashKey(key: Uint8Array): Uint8Array {
  return createHash('sha256').update(key).digest();
}
