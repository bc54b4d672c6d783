/**
 * random: the one seeded PRNG of the code base (mulberry32: 32 bits of state, fast, good enough
 * for synthetic markets, property tests and benchmarks; not for anything secret). A seed fixes
 * the whole sequence, so synthetic training data, property runs and benchmarks are reproducible.
 */

/** mulberry32 returns a generator of uniform numbers in [0, 1) fixed by `seed` (taken mod 2^32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
