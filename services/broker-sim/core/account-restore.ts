/**
 * account-restore: puts a saved account back into a freshly created broker and opens the new
 * session, the way Alpaca paper's account looks when you come back to it: cash, positions,
 * order history and client_order_id uniqueness are as they were; quotes are the new market's.
 */
import type { AccountSnapshot } from "./account-file.ts";
import { addOpen, type BrokerState, finish, type TradeUpdate } from "./broker.ts";
import { createLedger } from "./ledger.ts";
import { isOpen } from "./orders.ts";
import { restorePrng } from "./prng.ts";
import type { Nanos } from "./time.ts";

/**
 * restoreAccount replaces the account part of `state` (a broker just built by createBroker,
 * already holding the new market's quotes) with a saved one. Assets and quotes stay.
 *
 * IMPORTANT: `orders`, `orderLog`, `byClientId` and `openBySymbol` must share the same Order
 * objects: the broker mutates an order in place and every index must see it.
 */
export function restoreAccount(state: BrokerState, saved: AccountSnapshot): void {
  state.prng = restorePrng(saved.prng);
  state.accountId = saved.accountId;
  state.accountNumber = saved.accountNumber;
  state.createdAt = saved.createdAt;
  state.lastEquity = saved.lastEquity;
  state.ledger = createLedger(saved.cash);
  state.ledger.realizedPl = saved.realizedPl;
  for (const p of saved.positions) state.ledger.positions.set(p.symbol, { ...p });
  state.orders = new Map();
  state.orderLog = [];
  state.byClientId = new Map();
  state.openBySymbol = new Map();
  for (const o of saved.orders.map((x) => ({ ...x }))) {
    state.orders.set(o.id, o);
    state.orderLog.push(o);
    state.byClientId.set(o.clientOrderId, o);
    if (isOpen(o)) addOpen(state, o);
  }
  state.executions = saved.executions.map((e) => ({ ...e }));
}

export interface SessionStartRules {
  /**
   * everyRunIsASession: with the market always open there is no closing bell, so a simulator
   * run is the session, and a `day` order does not outlive the run that placed it.
   */
  everyRunIsASession: boolean;
}

/**
 * startSession ends, at the start of a run, the restored orders whose time is over: `day`
 * orders from an earlier session (Alpaca expires them at the close of their day) and `gtc`
 * orders past their 90-day lifetime. Everything else stays live and trades against the new
 * market. Returns the `expired` updates (nobody is listening yet; they are kept for the log).
 */
export function startSession(
  state: BrokerState,
  now: Nanos,
  rules: SessionStartRules,
): TradeUpdate[] {
  const updates: TradeUpdate[] = [];
  for (const o of [...state.orderLog]) {
    if (!isOpen(o)) continue;
    const ended =
      o.timeInForce === "day"
        ? rules.everyRunIsASession || o.expiresAt <= now
        : o.timeInForce === "gtc" && o.expiresAt <= now;
    if (ended) finish(state, o, "expired", now, updates);
  }
  return updates;
}
