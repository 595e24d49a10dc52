/**
 * Keeps the outputs of a unique column (and the foreign-key columns that share its mapping)
 * distinct. It stores two 52-bit fingerprints per output rather than the strings, so a million
 * values cost tens of megabytes. Outputs are compared case-insensitively, which also satisfies
 * unique indexes on lower(column).
 */
export class UniqueClaims {
  private readonly owners = new Map<number, number>();

  /** True when `output` is free or already belongs to `input`; claims it for `input`. */
  claim(output: string, input: string): boolean {
    const slot = fingerprint(output.toLowerCase(), 0x9747b28c);
    const owner = fingerprint(input, 0x5bd1e995);
    const current = this.owners.get(slot);
    if (current === undefined) {
      this.owners.set(slot, owner);
      return true;
    }
    return current === owner;
  }
}

/** Two 32-bit FNV-1a style hashes folded into a 52-bit integer. */
function fingerprint(text: string, seed: number): number {
  let a = 0x811c9dc5 ^ seed;
  let b = seed;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}
