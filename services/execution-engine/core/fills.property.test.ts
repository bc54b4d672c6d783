import assert from "node:assert/strict";
import { test } from "node:test";
import { type Fixed, fromDecimal, mul } from "../../core/money.ts";
import { mulberry32 } from "../../core/random.ts";
import { stepExecution } from "./step.ts";
import { engine, sentOrder, tradeUpdate, updates } from "./test-support.ts";

test("any duplication or reordering of trade updates publishes exactly the broker's fills", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = mulberry32(seed);
    const s = engine({ maxSlippageBps: 10000 });
    const qty = 1 + Math.floor(rnd() * 500);
    const id = sentOrder(s, `sig-${seed}`, qty);
    // the broker's true sequence of executions
    const truth: { cum: number; avg: Fixed }[] = [];
    let cum = 0;
    let notional = 0n;
    while (cum < qty) {
      const q = Math.min(qty - cum, 1 + Math.floor(rnd() * qty));
      const price = fromDecimal((99 + rnd() * 2).toFixed(2));
      cum += q;
      notional += mul(fromDecimal(q), price);
      truth.push({ cum, avg: (notional * 1_000_000_000n) / fromDecimal(cum) });
    }
    const events = truth.map((t, i) =>
      tradeUpdate(
        id,
        i === truth.length - 1 ? "fill" : "partial_fill",
        i === truth.length - 1 ? "filled" : "partially_filled",
        t.cum,
        null,
      ),
    );
    for (let i = 0; i < events.length; i++) events[i]!.order.filledAvgPrice = truth[i]!.avg;
    // deliver with duplicates, shuffled
    const delivered = [...events, ...events.filter(() => rnd() < 0.5)];
    for (let i = delivered.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [delivered[i], delivered[j]] = [delivered[j]!, delivered[i]!];
    }
    let published = 0n;
    let publishedNotional = 0n;
    for (const e of delivered) {
      for (const u of updates(stepExecution(s, e))) {
        published += u.fillQty;
        if (u.fillQty > 0n) publishedNotional += mul(u.fillQty, u.fillPrice!);
      }
    }
    assert.equal(published, fromDecimal(qty), `seed ${seed}: published fills`);
    const last = truth.at(-1)!;
    const expectedNotional = mul(fromDecimal(last.cum), last.avg);
    // Each fill's price is rounded to 1e-9, so qty × price may drift by half a nano-dollar a share.
    const drift = publishedNotional - expectedNotional;
    const bound = BigInt(qty + truth.length);
    assert.ok(drift >= -bound && drift <= bound, `seed ${seed}: notional drift ${drift} nano-USD`);
    assert.equal(s.finished.get(id)?.status, "Filled", `seed ${seed}`);
  }
});
