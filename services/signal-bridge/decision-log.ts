/**
 * decision-log: the signal-bridge's decisions as a recording keeps them (`decisions.csv`), so a
 * replay of the recorded market data can be compared with what the live stage decided, line for
 * line. One line per BUY or SELL signal published, in publish order:
 *
 *   signal_id,strategy_id,symbol,side,quantity,limit_price,reference_price,confidence
 *
 * quantity and limit_price are the signal's decimal strings ("" when the strategy asked for
 * none), reference_price the exact mid, confidence the float as JavaScript prints it (shortest
 * round-trip form, so equal doubles print equally).
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const DECISIONS_FILE = "decisions.csv";
export const DECISIONS_HEADER =
  "signal_id,strategy_id,symbol,side,quantity,limit_price,reference_price,confidence\n";

/** DecisionFields: what a decision line holds (the TradingSignal's fields). */
export interface DecisionFields {
  signalId: string;
  strategyId: string;
  symbol: string;
  /** direction: 1 for BUY, -1 for SELL. */
  direction: number;
  quantity: string;
  limitPrice: string;
  referencePrice: string;
  confidence: number;
}

export function decisionLine(d: DecisionFields): string {
  return `${d.signalId},${d.strategyId},${d.symbol},${d.direction > 0 ? "buy" : "sell"},${d.quantity},${d.limitPrice},${d.referencePrice},${d.confidence}\n`;
}

/**
 * DecisionLog buffers lines in memory (no I/O on the signal path) and appends them to
 * `dir/decisions.csv` on flush(); the stage flushes once a second and at stop.
 */
export class DecisionLog {
  readonly path: string;
  #pending: string[] = [];

  /** A stage that starts again (leadership regained, process restarted) appends to the file. */
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, DECISIONS_FILE);
    if (!existsSync(this.path)) writeFileSync(this.path, DECISIONS_HEADER);
  }

  add(d: DecisionFields): void {
    this.#pending.push(decisionLine(d));
  }

  flush(): void {
    if (this.#pending.length === 0) return;
    appendFileSync(this.path, this.#pending.join(""));
    this.#pending = [];
  }
}
