/**
 * A small, fast pseudo-random generator (sfc32) seeded from a keyed hash. It implements faker's
 * Randomizer interface, so reseeding per value costs four integer writes instead of faker's
 * Mersenne Twister set-up.
 */
export class SeededRandom {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seedBytes?: Uint8Array) {
    if (seedBytes) this.reseed(seedBytes);
  }

  /** Seeds from the first 16 bytes of a digest. */
  reseed(bytes: Uint8Array): void {
    this.a = word(bytes, 0);
    this.b = word(bytes, 4);
    this.c = word(bytes, 8);
    this.d = word(bytes, 12) | 1;
    // A few rounds mix the seed so that similar digests give unrelated streams.
    for (let i = 0; i < 8; i++) this.nextUint32();
  }

  /** Seeds from four 32-bit words (a SipHash result and two words of its key). */
  reseedWords(a: number, b: number, c: number, d: number): void {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 1;
    for (let i = 0; i < 8; i++) this.nextUint32();
  }

  /** Part of faker's Randomizer interface; devsnap seeds through reseed(). */
  seed(seed: number | number[]): void {
    const values = Array.isArray(seed) ? seed : [seed];
    this.a = values[0] ?? 0;
    this.b = values[1] ?? 0x9e3779b9;
    this.c = values[2] ?? 0x85ebca6b;
    this.d = (values[3] ?? 0xc2b2ae35) | 1;
    for (let i = 0; i < 8; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1); a bound property because faker calls it detached. */
  readonly next = (): number => this.nextUint32() / 4294967296;

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

function word(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] ?? 0) |
      ((bytes[offset + 1] ?? 0) << 8) |
      ((bytes[offset + 2] ?? 0) << 16) |
      ((bytes[offset + 3] ?? 0) << 24)) >>>
    0
  );
}
