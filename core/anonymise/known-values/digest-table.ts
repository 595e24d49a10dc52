/** Bytes a slot takes: two 32-bit lanes of the digest and a 16-bit tag. */
export const SLOT_BYTES = 10;
const MIN_CAPACITY = 1024;

/**
 * A set of 64-bit digests with a 16-bit tag each, in typed arrays (open addressing, at most half
 * full): about 20 bytes per distinct value, whatever the values were. A digest added twice keeps
 * its first tag.
 */
export class DigestTable {
  private lanesA: Uint32Array;
  private lanesB: Uint32Array;
  private tags: Uint16Array;
  private count = 0;

  constructor(capacity = MIN_CAPACITY) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(capacity, MIN_CAPACITY)));
    this.lanesA = new Uint32Array(size);
    this.lanesB = new Uint32Array(size);
    this.tags = new Uint16Array(size);
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.lanesA.length * SLOT_BYTES;
  }

  /** The tag of a digest, or -1. `b` is never 0 (SequenceDigest.finalB). */
  get(a: number, b: number): number {
    const slot = this.slotOf(a, b);
    return this.lanesB[slot] === 0 ? -1 : (this.tags[slot] as number);
  }

  add(a: number, b: number, tag: number): void {
    if ((this.count + 1) * 2 > this.lanesA.length) this.grow();
    if (this.insert(a, b, tag)) this.count++;
  }

  /**
   * Sets `flag` (a high bit of the tag) on a digest, adding it with `empty | flag` as its tag when
   * it is not held yet.
   */
  flag(a: number, b: number, flag: number, empty: number): void {
    if ((this.count + 1) * 2 > this.lanesA.length) this.grow();
    const slot = this.slotOf(a, b);
    if (this.lanesB[slot] !== 0) this.tags[slot] = (this.tags[slot] as number) | flag;
    else if (this.insert(a, b, empty | flag)) this.count++;
  }

  /** Where the digest is, or the empty slot where it would go (open addressing, linear probing). */
  private slotOf(a: number, b: number): number {
    const mask = this.lanesA.length - 1;
    for (let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const stored = this.lanesB[slot] as number;
      if (stored === 0 || (stored === b && this.lanesA[slot] === a)) return slot;
    }
  }

  private insert(a: number, b: number, tag: number): boolean {
    const slot = this.slotOf(a, b);
    if (this.lanesB[slot] !== 0) return false;
    this.lanesA[slot] = a;
    this.lanesB[slot] = b;
    this.tags[slot] = tag;
    return true;
  }

  private grow(): void {
    const { lanesA, lanesB, tags } = this;
    this.lanesA = new Uint32Array(lanesA.length * 2);
    this.lanesB = new Uint32Array(lanesA.length * 2);
    this.tags = new Uint16Array(lanesA.length * 2);
    for (let slot = 0; slot < lanesA.length; slot++) {
      if (lanesB[slot] !== 0)
        this.insert(lanesA[slot] as number, lanesB[slot] as number, tags[slot] as number);
    }
  }

  /** The table as bytes (for a distributed export's workers): lanes and tags, little-endian. */
  toBytes(): Uint8Array {
    const size = this.lanesA.length;
    const bytes = new Uint8Array(4 + size * SLOT_BYTES);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.count, true);
    bytes.set(new Uint8Array(this.lanesA.buffer, this.lanesA.byteOffset, size * 4), 4);
    bytes.set(new Uint8Array(this.lanesB.buffer, this.lanesB.byteOffset, size * 4), 4 + size * 4);
    bytes.set(new Uint8Array(this.tags.buffer, this.tags.byteOffset, size * 2), 4 + size * 8);
    return bytes;
  }

  static fromBytes(bytes: Uint8Array): DigestTable {
    const size = (bytes.length - 4) / SLOT_BYTES;
    if (!Number.isInteger(size) || size < MIN_CAPACITY || (size & (size - 1)) !== 0)
      throw new Error('not a digest table');
    const table = new DigestTable(size);
    // A copy at offset 0: a Buffer's slice() is a view into a shared pool, at any offset.
    const copy = new Uint8Array(bytes.subarray(4));
    table.lanesA = new Uint32Array(copy.buffer, 0, size);
    table.lanesB = new Uint32Array(copy.buffer, size * 4, size);
    table.tags = new Uint16Array(copy.buffer, size * 8, size);
    table.count = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    return table;
  }
}
