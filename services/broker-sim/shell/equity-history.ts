/**
 * equity-history: the account's equity at the end of each simulated minute, for GET
 * /v2/account/portfolio/history. Each sample is labelled with the start of its minute (Alpaca's
 * windows are left-labelled). Bounded: the oldest minutes go first beyond `limit`.
 */
import type { Fixed } from "../../core/money.ts";
import { type Nanos, NS_PER_MIN } from "../core/time.ts";

/** 60 days of minutes: intraday history reaches back 30 days at Alpaca; daily points need more. */
const DEFAULT_LIMIT = 60 * 24 * 60;

export class EquityHistory {
  readonly times: Nanos[] = [];
  readonly equity: Fixed[] = [];
  private readonly limit: number;

  constructor(limit = DEFAULT_LIMIT) {
    this.limit = limit;
  }

  /** sample records `equity` as the close of the minute that ended at or just before `now`. */
  sample(now: Nanos, equity: Fixed): void {
    const label = (now / NS_PER_MIN) * NS_PER_MIN - NS_PER_MIN;
    const last = this.times[this.times.length - 1];
    if (last !== undefined && label <= last) return;
    this.times.push(label);
    this.equity.push(equity);
    if (this.times.length > this.limit) {
      const drop = this.times.length - this.limit;
      this.times.splice(0, drop);
      this.equity.splice(0, drop);
    }
  }
}
