/**
 * Keeps the outputs of a unique column (and the foreign-key columns that share its mapping)
 * distinct. It stores two 52-bit fingerprints per output rather than the strings, in an
 * open-addressing table over two Float64Arrays: 16 bytes a value at most, nothing for the garbage
 * collector to trace, where a Map of numbers cost about 60 bytes and a heap number per entry.
 * Outputs are compared case-insensitively, which also satisfies unique indexes on lower(column).
 */
export class UniqueClaims {
  /** Fingerprint of each claimed output, plus one (0 marks a free slot). */
  private slots = new Float64Array(INITIAL_CAPACITY);
  /** Fingerprint of the input that owns each slot's output. */
  private owners = new Float64Array(INITIAL_CAPACITY);
  private size = 0;

  /** True when `output` is free or already belongs to `input`; claims it for `input`. */
  claim(output: string, input: string): boolean {
    const slot = fingerprint(output, 0x9747b28c, true) + 1;
    const owner = fingerprint(input, 0x5bd1e995, false);
    const mask = this.slots.length - 1;
    for (let at = home(slot) & mask; ; at = (at + 1) & mask) {
      const current = this.slots[at]!;
      if (current === 0) {
        this.slots[at] = slot;
        this.owners[at] = owner;
        if (++this.size * 2 > this.slots.length) this.grow();
        return true;
      }
      if (current === slot) return this.owners[at] === owner;
    }
  }

  private grow(): void {
    const slots = this.slots;
    const owners = this.owners;
    this.slots = new Float64Array(slots.length * 2);
    this.owners = new Float64Array(slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot === 0) continue;
      let at = home(slot) & mask;
      while (this.slots[at] !== 0) at = (at + 1) & mask;
      this.slots[at] = slot;
      this.owners[at] = owners[i]!;
    }
  }
}

const INITIAL_CAPACITY = 1024;

/** Where a slot value (fingerprint plus one) starts probing: the fingerprint's high word. */
function home(slot: number): number {
  return Math.floor((slot - 1) / 0x100000);
}

/**
 * Two 32-bit FNV-1a style hashes folded into a 52-bit integer; `fold` lowercases as it goes
 * (ASCII by hand, anything else with toLowerCase), so no lowercased copy is made.
 */
function fingerprint(text: string, seed: number, fold: boolean): number {
  let a = 0x811c9dc5 ^ seed;
  let b = seed;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (fold) {
      if (code >= 0x41 && code <= 0x5a) code += 0x20;
      else if (code > 0x7f) return fingerprint(text.toLowerCase(), seed, false);
    }
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}
