/**
 * Property: whatever the interleaving of intents, acknowledgements, fills, cancels, rejects,
 * timers and the kill switch, the engine never sends an order while an order of the other side
 * of the same symbol is at the broker (Alpaca refuses it as a potential wash trade), and its
 * per-symbol counts of live orders always match the orders it holds.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { toDecimal } from "../../core/money.ts";
import { mulberry32 } from "../../core/random.ts";
import type { ExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import { approval, engine, ofType, SECOND, snapshot, T0, tradeUpdate } from "./test-support.ts";
import type { ExecutionEvent, Side } from "./types.ts";

function recount(s: ExecutionState): string {
  const sides: Record<string, { buy: number; sell: number }> = {};
  let held = 0;
  for (const o of s.orders.values()) {
    if (o.awaiting === "opposite") held++;
    else {
      sides[o.symbol] ??= { buy: 0, sell: 0 };
      sides[o.symbol]![o.side]++;
    }
  }
  const counted = Object.fromEntries(
    [...s.sides].filter(([, c]) => c.buy !== 0 || c.sell !== 0).sort(),
  );
  return JSON.stringify([counted, s.held, Object.fromEntries(Object.entries(sides).sort()), held]);
}

test("no order is ever sent beside a working order of the other side of its symbol", () => {
  for (let seed = 1; seed <= 150; seed++) {
    const rnd = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const s = engine({ maxSlippageBps: 10_000, oppositeOrderWaitSeconds: 5 });
    let now = T0;
    stepExecution(s, { type: "TradeReceived", timeNs: now, symbol: "AAA", price: 100n * SECOND });
    /** atBroker: orders sent and not yet finished, by id. */
    const atBroker = new Map<string, { symbol: string; side: Side }>();
    let signal = 0;
    for (let step = 0; step < 120; step++) {
      now += BigInt(Math.floor(rnd() * 2_000)) * 1_000_000n;
      const live = [...s.orders.values()];
      const r = rnd();
      let event: ExecutionEvent;
      if (r < 0.35 || live.length === 0) {
        const a = approval(
          `s${seed}-${signal++}`,
          1 + Math.floor(rnd() * 5),
          100,
          pick(["buy", "sell"] as const),
          now,
        );
        event = { ...a, symbol: pick(["XOM", "AAA"]) };
      } else {
        const o = pick(live);
        const id = o.clientOrderId;
        const kind = rnd();
        if (kind < 0.2)
          event = { type: "SendSucceeded", timeNs: now, clientOrderId: id, order: snapshot("new") };
        else if (kind < 0.45) event = tradeUpdate(id, "fill", "filled", toDecimal(o.qty), 100, now);
        else if (kind < 0.55) event = tradeUpdate(id, "canceled", "canceled", 0, null, now);
        else if (kind < 0.65)
          event = {
            type: "SendFailed",
            timeNs: now,
            clientOrderId: id,
            failure: "rejected",
            httpStatus: 403,
            message: "no",
          };
        else if (kind < 0.9)
          event = { type: "RetryDue", timeNs: now + 6n * SECOND, clientOrderId: id };
        else event = { type: "KillSwitchChanged", timeNs: now, engaged: !s.killSwitch };
      }
      const cmds = stepExecution(s, event);
      for (const [id] of atBroker) if (!s.orders.has(id)) atBroker.delete(id);
      for (const c of ofType(cmds, "SendOrder")) {
        const { symbol, side, clientOrderId } = c.request;
        for (const [other, o] of atBroker) {
          assert.ok(
            other === clientOrderId || o.symbol !== symbol || o.side === side,
            `seed ${seed} step ${step}: ${clientOrderId} (${side} ${symbol}) sent beside ${other} (${o.side})`,
          );
        }
        atBroker.set(clientOrderId, { symbol, side });
      }
      const [counted, held, actual, actualHeld] = JSON.parse(recount(s));
      assert.deepEqual([counted, held], [actual, actualHeld], `seed ${seed} step ${step}: counts`);
    }
  }
});
