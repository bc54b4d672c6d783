/**
 * reconciler schedules reconciliations with the broker: one at once, then every `intervalMs`
 * after one that passed, and after `recheckMs` after one that found a break or failed (a fill
 * in flight can cause a false break, and an unreachable broker should be retried soon).
 */
import type { AlpacaTradingClient } from "../alpaca-client/index.ts";
import { type BrokerHoldings, readBrokerHoldings } from "./broker-sync.ts";

export interface ReconcilerOptions {
  trading: AlpacaTradingClient;
  intervalMs: number;
  recheckMs: number;
  /** onHoldings applies what the broker holds; returns whether the reconciliation passed. */
  onHoldings(holdings: BrokerHoldings): boolean;
  onError(err: Error): void;
  /**
   * resync runs before the re-check that follows a break: it catches up with fills the tracker
   * may have missed (published while it restarted, or lost between the execution-engine's
   * commit and its publish) from the database, the execution-engine's record.
   */
  resync?(): Promise<void>;
  /** after runs after every attempt (e.g. to refresh the status report). */
  after?(): void;
}

export interface Reconciler {
  stop(): Promise<void>;
}

export function startReconciler(opts: ReconcilerOptions): Reconciler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let lastBroke = false;
  const run = async () => {
    timer = undefined;
    let passed = false;
    try {
      if (lastBroke) await opts.resync?.();
      const holdings = await readBrokerHoldings(opts.trading);
      if (stopped) return;
      passed = opts.onHoldings(holdings);
      lastBroke = !passed;
    } catch (err) {
      if (stopped) return;
      opts.onError(err as Error);
    }
    if (stopped) return;
    opts.after?.();
    const delay = passed ? opts.intervalMs : Math.min(opts.recheckMs, opts.intervalMs);
    timer = setTimeout(() => {
      running = run();
    }, delay);
  };
  running = run();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => {});
      if (timer) clearTimeout(timer);
    },
  };
}
