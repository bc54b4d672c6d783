/**
 * TickTape is the tick memo between the score prefetcher's shadow strategy engine and the
 * kernel's (TickMemo in signal-bridge/strategy/engine.ts): the shadow appends, per two-sided
 * quote, what its strategies computed from the ticks alone; the kernel's engine, fed the same
 * quotes later, takes each record instead of computing the indicators a second time. Each
 * record remembers its quote (symbol, bid, ask and sizes) and `take` refuses any other quote.
 */
import type { TickMemo } from "../signal-bridge/strategy/engine.ts";

export class TickTape implements TickMemo {
  data = new Float64Array(1 << 14);
  private symbols: string[] = [];
  /** quotes: per record, bid, ask, bid size, ask size (what `take` checks). */
  private quotes = new Float64Array(4 * 1024);
  private starts = new Int32Array(1024);
  private widths = new Int32Array(1024);
  /** Records [head, count) are appended and not taken yet; `end` is where the next one goes. */
  private head = 0;
  private count = 0;
  private end = 0;

  /** pending: records appended and not taken yet. */
  get pending(): number {
    return this.count - this.head;
  }

  append(
    symbol: string,
    bid: number,
    ask: number,
    bidSize: number,
    askSize: number,
    width: number,
  ): number {
    if (this.count === this.starts.length) this.growRecords();
    if (this.end + width > this.data.length) this.growData(this.end + width);
    const r = this.count++;
    this.symbols[r] = symbol;
    const q = this.quotes;
    q[4 * r] = bid;
    q[4 * r + 1] = ask;
    q[4 * r + 2] = bidSize;
    q[4 * r + 3] = askSize;
    this.starts[r] = this.end;
    this.widths[r] = width;
    this.end += width;
    return this.starts[r]!;
  }

  take(
    symbol: string,
    bid: number,
    ask: number,
    bidSize: number,
    askSize: number,
    width: number,
  ): number {
    const r = this.head;
    const q = this.quotes;
    if (
      r >= this.count ||
      this.symbols[r] !== symbol ||
      q[4 * r] !== bid ||
      q[4 * r + 1] !== ask ||
      q[4 * r + 2] !== bidSize ||
      q[4 * r + 3] !== askSize ||
      this.widths[r] !== width
    ) {
      const want = r < this.count ? `${this.symbols[r]} ${q[4 * r]}/${q[4 * r + 1]}` : "none";
      throw new Error(
        `tick memo out of step: the kernel's quote ${symbol} ${bid}/${ask} is not the shadow's next (${want})`,
      );
    }
    this.head++;
    return this.starts[r]!;
  }

  /** compact drops the records taken so far (call between batches, not during a quote). */
  compact(): void {
    const h = this.head;
    if (h === 0) return;
    const keep = this.count - h;
    const from = keep > 0 ? this.starts[h]! : this.end;
    this.data.copyWithin(0, from, this.end);
    this.end -= from;
    for (let r = 0; r < keep; r++) {
      this.symbols[r] = this.symbols[h + r]!;
      this.starts[r] = this.starts[h + r]! - from;
      this.widths[r] = this.widths[h + r]!;
    }
    this.quotes.copyWithin(0, 4 * h, 4 * this.count);
    this.symbols.length = keep;
    this.count = keep;
    this.head = 0;
  }

  private growRecords(): void {
    const cap = this.starts.length * 2;
    const starts = new Int32Array(cap);
    starts.set(this.starts);
    const widths = new Int32Array(cap);
    widths.set(this.widths);
    const quotes = new Float64Array(4 * cap);
    quotes.set(this.quotes);
    this.starts = starts;
    this.widths = widths;
    this.quotes = quotes;
  }

  private growData(need: number): void {
    let cap = this.data.length * 2;
    while (cap < need) cap *= 2;
    const data = new Float64Array(cap);
    data.set(this.data.subarray(0, this.end));
    this.data = data;
  }
}
