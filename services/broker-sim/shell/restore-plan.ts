/**
 * restore-plan: the decisions startSimulator makes before building the engine around a saved
 * account — which symbols the market must quote and when the simulated clock starts.
 */
import { TradepipeError } from "../../core/errors.ts";
import { div, toNumber } from "../../core/money.ts";
import { DEFAULT_SYMBOLS } from "../assets.ts";
import type { AccountSnapshot } from "../core/account-file.ts";
import { isOpen } from "../core/orders.ts";
import { formatRfc3339, type Nanos } from "../core/time.ts";

/**
 * withHeldSymbols adds to the universe every symbol the account holds or has live orders in,
 * so a position stays priced and can be closed after the configured symbols changed. A symbol
 * unknown to the default universe starts at its average entry price.
 */
export function withHeldSymbols(
  symbols: Record<string, number>,
  saved: AccountSnapshot,
): Record<string, number> {
  const out = { ...symbols };
  for (const p of saved.positions) {
    if (p.symbol in out) continue;
    const avg = Math.abs(toNumber(div(p.costBasis, p.qty)));
    out[p.symbol] = DEFAULT_SYMBOLS[p.symbol] ?? (avg > 0 ? avg : 100);
  }
  for (const o of saved.orders) {
    if (isOpen(o) && !(o.symbol in out)) out[o.symbol] = DEFAULT_SYMBOLS[o.symbol] ?? 100;
  }
  return out;
}

/**
 * restoredStart picks the simulated start time. The account's clock never runs backwards:
 * without an explicit start the clock starts at the later of now and the last save; an explicit
 * start (or a recording) before the last save is refused.
 */
export function restoredStart(
  path: string,
  saved: AccountSnapshot,
  start: Nanos,
  explicit: string | undefined,
): Nanos {
  if (start >= saved.savedAt) return start;
  if (explicit === undefined) return saved.savedAt;
  throw new TradepipeError(
    "TP_ERR_SIM_STATE",
    `broker-sim: startTime ${explicit} is before the last save of the account in ${path} (${formatRfc3339(saved.savedAt)}); the account's clock cannot run backwards — start later, or delete ${path} for a fresh account`,
  );
}
