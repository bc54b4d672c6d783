/**
 * limit-price: the limit a strategy asks for, made an order's limit. US equities accept a cent
 * at $1 and above and $0.0001 below, so the price is rounded inward to that increment (a buy
 * down, a sell up: never a worse price than asked); then the execution engine's slippage guard
 * caps it: a buy's limit is at most, a sell's at least, the marketable limit the guard would
 * give a market order at the signal's reference price (maxSlippageBps), so a limit order can
 * never fill worse than a market order would be allowed to.
 */
import { type Fixed, max, min, SCALE } from "../../core/money.ts";
import { marketableLimit } from "../../execution-engine/core/step.ts";
import type { Side } from "./types.ts";

const CENT = SCALE / 100n;
const TEN_THOUSANDTH = SCALE / 10_000n;

/** onTick rounds `price` to the increment it trades in, inward for `side`. */
export function onTick(side: Side, price: Fixed): Fixed {
  const tick = price >= SCALE ? CENT : TEN_THOUSANDTH;
  const rest = price % tick;
  if (rest === 0n) return price;
  if (side === "buy") return price - rest > 0n ? price - rest : tick;
  return price - rest + tick;
}

/** orderLimit: the limit an approved order carries (see above); `maxSlippageBps` null: no cap. */
export function orderLimit(
  side: Side,
  asked: Fixed,
  reference: Fixed,
  maxSlippageBps: Fixed | null,
): Fixed {
  const ticked = onTick(side, asked);
  if (maxSlippageBps === null) return ticked;
  const guard = marketableLimit(side, reference, maxSlippageBps);
  return side === "buy" ? min(ticked, guard) : max(ticked, guard);
}
