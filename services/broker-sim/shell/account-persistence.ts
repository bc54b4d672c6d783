/**
 * account-persistence: joins a simulator to its state file — restores the saved account into
 * the new engine, opens the session, and saves after every change from then on.
 */
import { TradepipeError } from "../../core/errors.ts";
import { toDecimal } from "../../core/money.ts";
import { AccountRenderer, type AccountSnapshot } from "../core/account-file.ts";
import { restoreAccount, startSession } from "../core/account-restore.ts";
import { formatRfc3339 } from "../core/time.ts";
import type { AccountStore } from "./account-store.ts";
import type { SimContext } from "./context.ts";

/** AccountPersistence tells where the account lives and what was restored at start. */
export interface AccountPersistence {
  stateFile: string;
  /** restored is false for a new account (the file did not exist yet). */
  restored: boolean;
  positions: number;
  /** openOrders still live after the start of the session. */
  openOrders: number;
  orders: number;
  /** expiredAtStart: day orders of an earlier session (and GTC orders past 90 days) expired at start. */
  expiredAtStart: number;
  cash: string;
}

/** describeAccount says in one line where the account lives and what came back from it. */
export function describeAccount(a: AccountPersistence): string {
  if (!a.restored) return `new account, kept in ${a.stateFile}`;
  const expired = a.expiredAtStart > 0 ? `; ${a.expiredAtStart} expired at the session start` : "";
  return `account restored from ${a.stateFile}: cash ${a.cash}, ${a.positions} positions, ${a.openOrders} open of ${a.orders} orders${expired}`;
}

/**
 * attachStore puts the saved account (if any) into the new engine, expires what the new session
 * ends, and saves the account after every change from now on.
 */
export function attachStore(
  ctx: SimContext,
  store: AccountStore,
  saved: AccountSnapshot | undefined,
  marketAlwaysOpen: boolean,
): AccountPersistence {
  const engine = ctx.engine;
  const t0 = engine.clockInfo().now;
  let expired = 0;
  if (saved) {
    if (t0 < saved.savedAt) {
      throw new TradepipeError(
        "TP_ERR_SIM_STATE",
        `broker-sim: the recording starts at ${formatRfc3339(t0)}, before the last save of the account in ${store.path} (${formatRfc3339(saved.savedAt)}); the account's clock cannot run backwards — delete ${store.path} for a fresh account`,
      );
    }
    restoreAccount(engine.state, saved);
    ctx.orderRequests.push(...saved.orderRequests);
    expired = startSession(engine.state, t0, { everyRunIsASession: marketAlwaysOpen }).length;
  }
  const renderer = new AccountRenderer();
  store.track(() => renderer.render(engine.state, ctx.orderRequests, engine.clockInfo().now));
  ctx.onChange = () => store.markDirty();
  engine.onTradeUpdate(() => store.markDirty());
  // A new account gets its file at once; a restored one records what the session start expired.
  store.markDirty();
  const s = engine.state;
  let openOrders = 0;
  for (const set of s.openBySymbol.values()) openOrders += set.size;
  return {
    stateFile: store.path,
    restored: saved !== undefined,
    positions: s.ledger.positions.size,
    openOrders,
    orders: s.orderLog.length,
    expiredAtStart: expired,
    cash: toDecimal(s.ledger.cash),
  };
}
