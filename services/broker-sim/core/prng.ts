/**
 * Prng is a small seedable generator (xoshiro128**) so every random choice of the simulator —
 * prices, arrivals, partial fills, ids, faults — is reproducible from one seed.
 *
 * IMPORTANT: the simulator never uses Math.random; a fixed seed must replay the same market and
 * the same fills.
 */
export interface Prng {
  /** next returns a float in [0, 1). */
  next(): number;
  /** int returns an integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  /** normal returns a standard normal variate. */
  normal(): number;
  /** exponential returns an exponential variate with the given mean. */
  exponential(mean: number): number;
  /** uuid returns a version-4 shaped UUID built from the stream. */
  uuid(): string;
  /** save returns the generator's position, so a later process can continue the same stream. */
  save(): PrngState;
}

/** PrngState is a generator's position: the four xoshiro words and the cached normal variate. */
export interface PrngState {
  words: [number, number, number, number];
  spare: number | null;
}

/** hashSeed mixes a numeric seed with a label (e.g. a symbol) into a 32-bit state word. */
export function hashSeed(seed: number, label = ""): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x85ebca6b) >>> 0;
    h = ((h << 13) | (h >>> 19)) >>> 0;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** createPrng seeds a xoshiro128** generator from (seed, label). */
export function createPrng(seed: number, label = ""): Prng {
  const init = splitmix32(hashSeed(seed, label));
  return restorePrng({ words: [init(), init(), init(), init()], spare: null });
}

/** restorePrng continues a stream from a position `save()` returned. */
export function restorePrng(state: PrngState): Prng {
  let [a, b, c, d] = state.words.map((w) => w >>> 0) as [number, number, number, number];
  if ((a | b | c | d) === 0) a = 1;
  const nextU32 = (): number => {
    const result = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = ((d << 11) | (d >>> 21)) >>> 0;
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  const next = (): number => nextU32() / 4294967296;
  let spare: number | undefined = state.spare ?? undefined;
  return {
    next,
    int(lo, hi) {
      return lo + Math.floor(next() * (hi - lo + 1));
    },
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    exponential(mean) {
      let u = 0;
      while (u === 0) u = next();
      return -Math.log(u) * mean;
    },
    uuid() {
      // Four draws of 32 bits as 32 hex digits; digit 12 becomes the version (4), digit 16 the
      // variant (its two top bits 10).
      const w0 = nextU32();
      const w1 = nextU32();
      const w2 = nextU32();
      const w3 = nextU32();
      return `${hex8(w0)}-${BYTE[w1 >>> 24]}${BYTE[(w1 >>> 16) & 255]}-4${DIGIT[(w1 >>> 8) & 15]}${BYTE[w1 & 255]}-${DIGIT[((w2 >>> 28) & 3) | 8]}${DIGIT[(w2 >>> 24) & 15]}${BYTE[(w2 >>> 16) & 255]}-${BYTE[(w2 >>> 8) & 255]}${BYTE[w2 & 255]}${hex8(w3)}`;
    },
    save() {
      return { words: [a >>> 0, b >>> 0, c >>> 0, d >>> 0], spare: spare ?? null };
    },
  };
}

/** Hex digits and two-digit bytes by table: a uuid is made per order and per execution. */
const DIGIT = "0123456789abcdef";
const BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hex8 = (n: number): string =>
  BYTE[n >>> 24]! + BYTE[(n >>> 16) & 255]! + BYTE[(n >>> 8) & 255]! + BYTE[n & 255]!;
