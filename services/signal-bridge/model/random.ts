/**
 * SeededRandom is a small deterministic PRNG (mulberry32) with a normal sampler (Box–Muller),
 * so synthetic training data, and therefore the trained weights, depend only on the seed.
 */
import { mulberry32 } from "../../core/random.ts";

export class SeededRandom {
  private readonly uniform: () => number;
  private spare = Number.NaN;

  constructor(seed: number) {
    this.uniform = mulberry32(seed);
  }

  /** next returns a uniform number in [0, 1). */
  next(): number {
    return this.uniform();
  }

  /** normal returns a standard normal sample. */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
