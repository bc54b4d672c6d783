/**
 * Ema is an exponential moving average with alpha = 2 / (period + 1), seeded with the simple
 * mean of its first `period` inputs (the TA-Lib / StockCharts convention), O(1) per input.
 */
export class Ema {
  readonly period: number;
  readonly alpha: number;
  private count = 0;
  private sum = 0;
  /** value is the current average, NaN until `period` inputs have been seen. */
  value = Number.NaN;

  constructor(period: number) {
    this.period = period;
    this.alpha = 2 / (period + 1);
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  update(x: number): void {
    if (this.count < this.period) {
      this.sum += x;
      this.count++;
      if (this.count === this.period) this.value = this.sum / this.period;
      return;
    }
    this.value += this.alpha * (x - this.value);
  }
}
