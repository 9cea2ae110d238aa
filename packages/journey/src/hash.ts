// A small, stable, pure string hash (FNV-1a with a murmur3 finaliser) for deterministic choices:
// random-split buckets, simulated coupon codes. Never Math.random.

export function hash32(input: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    h ^= input.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) fixed by `key`. */
export function unitInterval(key: string): number {
  return hash32(key) / 0x1_0000_0000;
}
