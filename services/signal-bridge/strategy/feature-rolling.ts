/**
 * Allocation-free rolling windows the feature library is built from. Each holds a fixed
 * Float64Array ring sized at construction; `push` is O(1) (amortized O(1) for the extremes),
 * so a feature built from them costs O(1) per tick and allocates nothing after start.
 */

/** History keeps the last `capacity` values; `ago(k)` is the value k pushes back (0 = latest). */
export class History {
  private readonly ring: Float64Array;
  private next = 0;
  count = 0;
  constructor(capacity: number) {
    this.ring = new Float64Array(capacity);
  }
  push(x: number): void {
    this.ring[this.next] = x;
    this.next = this.next + 1 === this.ring.length ? 0 : this.next + 1;
    if (this.count < this.ring.length) this.count++;
  }
  /** ago(k) for k < count; NaN otherwise. */
  ago(k: number): number {
    if (k >= this.count) return Number.NaN;
    const n = this.ring.length;
    let i = this.next - 1 - k;
    if (i < 0) i += n;
    return this.ring[i]!;
  }
  get full(): boolean {
    return this.count === this.ring.length;
  }
}

/**
 * Moments slides the sum and sum of squares of the last `period` values (sum, mean, population
 * variance). The sums are kept about the first value seen (the shifted-data algorithm), which
 * avoids the cancellation of a raw sum of squares at prices far from zero, and recomputed from
 * the window every 1024 pushes so rounding cannot drift.
 */
export class Moments {
  private readonly window: History;
  readonly period: number;
  private shift = Number.NaN;
  private sum = 0;
  private sumSq = 0;
  private sincePrecise = 0;
  constructor(period: number) {
    this.period = period;
    this.window = new History(period);
  }
  push(x: number): void {
    if (Number.isNaN(this.shift)) this.shift = x;
    if (this.window.full) {
      const old = this.window.ago(this.period - 1) - this.shift;
      this.sum -= old;
      this.sumSq -= old * old;
    }
    this.window.push(x);
    const d = x - this.shift;
    this.sum += d;
    this.sumSq += d * d;
    if (++this.sincePrecise >= 1024) this.recompute();
  }
  get ready(): boolean {
    return this.window.full;
  }
  get mean(): number {
    return this.ready ? this.shift + this.sum / this.period : Number.NaN;
  }
  get sumValue(): number {
    return this.ready ? this.sum + this.shift * this.period : Number.NaN;
  }
  /** Population variance (divide by n), as Bollinger and TA-Lib's STDDEV/VAR define it. */
  get variance(): number {
    if (!this.ready) return Number.NaN;
    const m = this.sum / this.period;
    return Math.max(this.sumSq / this.period - m * m, 0);
  }
  private recompute(): void {
    // Re-centre on the latest value and sum the window afresh.
    this.shift = this.window.ago(0);
    let s = 0;
    let q = 0;
    for (let k = 0; k < this.window.count; k++) {
      const d = this.window.ago(k) - this.shift;
      s += d;
      q += d * d;
    }
    this.sum = s;
    this.sumSq = q;
    this.sincePrecise = 0;
  }
}

/**
 * Extremes tracks the maximum and minimum of the last `period` values with two monotonic
 * deques over preallocated rings (amortized O(1) per push), and how many pushes ago each was.
 */
export class Extremes {
  readonly period: number;
  private seq = 0;
  private readonly maxIdx: Float64Array;
  private readonly maxVal: Float64Array;
  private readonly minIdx: Float64Array;
  private readonly minVal: Float64Array;
  private maxHead = 0;
  private maxLen = 0;
  private minHead = 0;
  private minLen = 0;
  constructor(period: number) {
    this.period = period;
    this.maxIdx = new Float64Array(period);
    this.maxVal = new Float64Array(period);
    this.minIdx = new Float64Array(period);
    this.minVal = new Float64Array(period);
  }
  push(x: number): void {
    const n = this.period;
    const seq = this.seq++;
    const oldest = seq - n + 1;
    // Max deque: values strictly decreasing from head; drop the expired head and smaller tails.
    if (this.maxLen > 0 && this.maxIdx[this.maxHead]! < oldest) {
      this.maxHead = (this.maxHead + 1) % n;
      this.maxLen--;
    }
    while (this.maxLen > 0 && this.maxVal[(this.maxHead + this.maxLen - 1) % n]! <= x)
      this.maxLen--;
    const mt = (this.maxHead + this.maxLen) % n;
    this.maxIdx[mt] = seq;
    this.maxVal[mt] = x;
    this.maxLen++;
    if (this.minLen > 0 && this.minIdx[this.minHead]! < oldest) {
      this.minHead = (this.minHead + 1) % n;
      this.minLen--;
    }
    while (this.minLen > 0 && this.minVal[(this.minHead + this.minLen - 1) % n]! >= x)
      this.minLen--;
    const nt = (this.minHead + this.minLen) % n;
    this.minIdx[nt] = seq;
    this.minVal[nt] = x;
    this.minLen++;
  }
  get ready(): boolean {
    return this.seq >= this.period;
  }
  get max(): number {
    return this.ready ? this.maxVal[this.maxHead]! : Number.NaN;
  }
  get min(): number {
    return this.ready ? this.minVal[this.minHead]! : Number.NaN;
  }
  /** Pushes since the maximum (0: the latest value is the maximum; ties: the latest). */
  get sinceMax(): number {
    return this.ready ? this.seq - 1 - this.maxIdx[this.maxHead]! : Number.NaN;
  }
  get sinceMin(): number {
    return this.ready ? this.seq - 1 - this.minIdx[this.minHead]! : Number.NaN;
  }
}
