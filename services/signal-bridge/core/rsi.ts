/**
 * Rsi is Wilder's Relative Strength Index, updated in O(1) per price.
 *
 * Definition (Wilder, 1978): the first average gain/loss is the simple mean of the first
 * `period` changes; after that each average is smoothed as avg = (avg * (period - 1) + x) /
 * period. RSI = 100 - 100 / (1 + avgGain / avgLoss); 100 when there were no losses, and 50 when
 * there was no movement at all. Ready after `period + 1` prices.
 */
export class Rsi {
  readonly period: number;
  private prev = Number.NaN;
  private changes = 0;
  private avgGain = 0;
  private avgLoss = 0;
  /** value is the current RSI (0..100), NaN until ready. */
  value = Number.NaN;

  constructor(period: number) {
    this.period = period;
  }

  get ready(): boolean {
    return this.changes >= this.period;
  }

  update(price: number): void {
    const prev = this.prev;
    this.prev = price;
    if (Number.isNaN(prev)) return;
    const change = price - prev;
    const gain = Math.max(change, 0);
    const loss = Math.max(-change, 0);
    const n = this.period;
    this.changes++;
    if (this.changes <= n) {
      // Warm-up: accumulate sums; they become the first averages at the n-th change.
      this.avgGain += gain;
      this.avgLoss += loss;
      if (this.changes < n) return;
      this.avgGain /= n;
      this.avgLoss /= n;
    } else {
      this.avgGain = (this.avgGain * (n - 1) + gain) / n;
      this.avgLoss = (this.avgLoss * (n - 1) + loss) / n;
    }
    this.value = rsiFromAverages(this.avgGain, this.avgLoss);
  }
}

export function rsiFromAverages(avgGain: number, avgLoss: number): number {
  if (avgLoss === 0) return avgGain === 0 ? 50 : 100;
  return 100 - 100 / (1 + avgGain / avgLoss);
}
