import assert from "node:assert/strict";
import { test } from "node:test";
import { type Fixed, fromDecimal, mul } from "../../core/money.ts";
import { mulberry32 } from "../../core/random.ts";
import { stepPositions } from "./step.ts";
import { tracker } from "./test-support.ts";

test("random fills: position = Σ signed fills, and P&L = cash flows + marked value, exactly", () => {
  const symbols = ["XOM", "AAPL", "MSFT"];
  for (let seed = 1; seed <= 100; seed++) {
    const rnd = mulberry32(seed);
    const s = tracker({ startingEquity: "100000" });
    const signed = new Map<string, Fixed>();
    const marks = new Map<string, Fixed>();
    let cashFlow = 0n;
    for (let i = 0; i < 300; i++) {
      const symbol = symbols[Math.floor(rnd() * symbols.length)]!;
      const price = fromDecimal((50 + rnd() * 100).toFixed(4));
      if (rnd() < 0.3) {
        stepPositions(s, { type: "TradeReceived", timeNs: BigInt(i), symbol, price });
        if (s.positions.has(symbol)) marks.set(symbol, price);
        continue;
      }
      const qty = fromDecimal((rnd() * 200).toFixed(rnd() < 0.5 ? 0 : 3)) || 1_000_000_000n;
      const side = rnd() < 0.5 ? "buy" : "sell";
      stepPositions(s, {
        type: "FillReceived",
        timeNs: BigInt(i),
        clientOrderId: `o${i}`,
        symbol,
        side,
        fillQty: qty,
        fillPrice: price,
        filledQty: qty,
      });
      const q = side === "buy" ? qty : -qty;
      signed.set(symbol, (signed.get(symbol) ?? 0n) + q);
      marks.set(symbol, price);
      cashFlow -= mul(q, price);
    }
    let marked = 0n;
    for (const [symbol, q] of signed) {
      assert.equal(s.positions.get(symbol)?.qty, q, `seed ${seed}: ${symbol} qty`);
      marked += mul(q, marks.get(symbol)!);
    }
    assert.equal(s.realized + s.unrealized, cashFlow + marked, `seed ${seed}: P&L conservation`);
    let realized = 0n;
    for (const p of s.positions.values()) realized += p.realized;
    assert.equal(s.realized, realized, `seed ${seed}: total realized = Σ per symbol`);
  }
});
