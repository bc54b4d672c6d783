/**
 * Macd is Appel's MACD: line = EMA(fast) - EMA(slow) of the price, signal = EMA(signal) of the
 * line, histogram = line - signal. Both price EMAs start from the first price; the signal EMA
 * starts with the first line value (when the slow EMA is ready), so the histogram is ready after
 * `slow + signal - 1` prices. O(1) per price.
 */
import { Ema } from "./ema.ts";

export class Macd {
  private readonly fast: Ema;
  private readonly slow: Ema;
  private readonly signalEma: Ema;
  line = Number.NaN;
  signal = Number.NaN;
  histogram = Number.NaN;
  /** previousHistogram is the histogram before the last update (for zero-cross rules). */
  previousHistogram = Number.NaN;

  constructor(fast: number, slow: number, signal: number) {
    this.fast = new Ema(fast);
    this.slow = new Ema(slow);
    this.signalEma = new Ema(signal);
  }

  get ready(): boolean {
    return this.signalEma.ready;
  }

  update(price: number): void {
    this.fast.update(price);
    this.slow.update(price);
    if (!this.slow.ready) return;
    this.line = this.fast.value - this.slow.value;
    this.signalEma.update(this.line);
    if (!this.signalEma.ready) return;
    this.signal = this.signalEma.value;
    this.previousHistogram = this.histogram;
    this.histogram = this.line - this.signal;
  }
}
