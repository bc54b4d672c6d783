/**
 * Bollinger holds Bollinger Bands over a sliding window, O(1) per price: middle = mean of the
 * last `period` prices, upper/lower = middle ± k · σ, where σ is the POPULATION standard
 * deviation of the window (divide by n, as Bollinger defines it; not the n − 1 sample form).
 *
 * The mean and the sum of squared deviations (M2) are slid with Welford's update (remove the
 * oldest, add the newest), which avoids the cancellation of a running sum of squares at prices
 * far from zero. Rounding drift is bounded by recomputing both exactly from the window every
 * `RECOMPUTE_EVERY` updates (O(period) once in a while, O(1) amortized).
 */
const RECOMPUTE_EVERY = 1024;

export class Bollinger {
  readonly period: number;
  readonly k: number;
  private readonly window: Float64Array;
  private next = 0;
  private count = 0;
  private mean = 0;
  private m2 = 0;
  private sinceRecompute = 0;
  middle = Number.NaN;
  upper = Number.NaN;
  lower = Number.NaN;
  /** percentB is (price − lower) / (upper − lower) for the last price; 0.5 when the bands meet. */
  percentB = Number.NaN;
  /** bandwidth is (upper − lower) / middle. */
  bandwidth = Number.NaN;

  constructor(period: number, k: number) {
    this.period = period;
    this.k = k;
    this.window = new Float64Array(period);
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  /** stdDev is the population standard deviation of the window. */
  get stdDev(): number {
    return Math.sqrt(this.m2 / this.count);
  }

  update(price: number): void {
    const n = this.period;
    if (this.count < n) {
      this.count++;
      const delta = price - this.mean;
      this.mean += delta / this.count;
      this.m2 += delta * (price - this.mean);
    } else {
      const old = this.window[this.next]!;
      const mean = this.mean + (price - old) / n;
      this.m2 += (price - old) * (price - mean + old - this.mean);
      this.mean = mean;
    }
    this.window[this.next] = price;
    this.next = this.next + 1 === n ? 0 : this.next + 1;
    if (++this.sinceRecompute >= RECOMPUTE_EVERY && this.count === n) this.recompute();
    if (this.m2 < 0) this.m2 = 0;
    if (this.count < n) return;
    const width = this.k * Math.sqrt(this.m2 / n);
    this.middle = this.mean;
    this.upper = this.mean + width;
    this.lower = this.mean - width;
    this.percentB = width === 0 ? 0.5 : (price - this.lower) / (2 * width);
    this.bandwidth = (2 * width) / this.mean;
  }

  private recompute(): void {
    const w = this.window;
    let sum = 0;
    for (let i = 0; i < w.length; i++) sum += w[i]!;
    const mean = sum / w.length;
    let m2 = 0;
    for (let i = 0; i < w.length; i++) m2 += (w[i]! - mean) ** 2;
    this.mean = mean;
    this.m2 = m2;
    this.sinceRecompute = 0;
  }
}
