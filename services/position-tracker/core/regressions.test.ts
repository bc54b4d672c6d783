/**
 * Regression tests, each named after a wrong decision the tracker once made: the scenario that
 * showed it, driven through the core.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { feeSchedule } from "../../core/fees.ts";
import { toDecimal } from "../../core/money.ts";
import { eventForRisk } from "./downstream.ts";
import { applyFill, averageCost, createPosition } from "./position.ts";
import { equityOf, restorePositionState, snapshotOf } from "./state.ts";
import { stepPositions } from "./step.ts";
import { d, ofType, quote, SPEC_POSITIONS, T0, tracker } from "./test-support.ts";
import type { BrokerPosition, FillReceived } from "./types.ts";

/** update: an order update of XOM with this execution and the order's cumulative figures. */
function update(
  clientOrderId: string,
  side: "buy" | "sell",
  qty: number,
  price: number,
  filledQty: number,
  filledAvgPrice?: number,
): FillReceived {
  return {
    type: "FillReceived",
    timeNs: T0,
    clientOrderId,
    symbol: "XOM",
    side,
    fillQty: d(qty),
    fillPrice: d(price),
    filledQty: d(filledQty),
    ...(filledAvgPrice !== undefined ? { filledAvgPrice: d(filledAvgPrice) } : {}),
  };
}

const holdings = (cash: string, positions: BrokerPosition[] = []) =>
  ({ type: "BrokerPositionsReceived", timeNs: T0, positions, cash: d(cash) }) as const;

const buy500 = () => update("tp-1-s1", "buy", 100, 500, 100, 500);

test("a phantom equity peak from reconciliation: pre-fill account cash moves neither the peak nor the alert, nor survives a restart", () => {
  const s = tracker();
  stepPositions(s, holdings("100000"));
  assert.equal(equityOf(s), d(100000));
  stepPositions(s, buy500());
  assert.equal(equityOf(s), d(100000), "cash 50k + 100 × 500");
  // The broker's account and positions as they stood before the fill.
  const cmds = stepPositions(s, holdings("100000"));
  assert.equal(ofType(cmds, "PublishReconciliation")[0]?.ok, false, "100 booked, broker has 0");
  assert.equal(equityOf(s), d(100000), "the pre-fill cash is not taken");
  assert.equal(s.drawdown.peak, d(100000), "no phantom 150k peak");
  assert.equal(ofType(cmds, "PublishDrawdownAlert").length, 0, "no false 33% alert");
  // While the break is open our equity is not trusted: no peak from a rally either.
  stepPositions(s, quote("XOM", 520, 520));
  assert.equal(s.drawdown.peak, d(100000));

  // A restart from the snapshot taken now restores the true peak, and the alert re-arms.
  const saved = JSON.parse(JSON.stringify(snapshotOf(s, T0)));
  assert.equal(saved.peakEquity, "100000");
  assert.equal(saved.drawdownAlerted, false);
  const r = restorePositionState(SPEC_POSITIONS, saved);
  stepPositions(r, buy500());
  stepPositions(r, holdings("50000", [{ symbol: "XOM", qty: d(100), avgEntryPrice: d(500) }]));
  assert.equal(equityOf(r), d(100000));
  assert.equal(r.drawdown.peak, d(100000));
  const fall = stepPositions(r, quote("XOM", 450, 450));
  assert.equal(ofType(fall, "PublishDrawdownAlert").length, 1, "a real 5% drawdown alerts");
});

test("a phantom equity peak from reconciliation: cash read while the account moved is not taken", () => {
  const s = tracker();
  stepPositions(s, holdings("100000"));
  stepPositions(s, buy500());
  // Positions that reconcile but no cash (the shell's two position reads disagreed).
  stepPositions(s, {
    type: "BrokerPositionsReceived",
    timeNs: T0,
    positions: [{ symbol: "XOM", qty: d(100), avgEntryPrice: d(500) }],
  });
  assert.equal(s.cash, d(50000));
  assert.equal(s.reconciled, true);
});

test("a late fill booked at the wrong price: 50 @ 110 arriving before 50 @ 100 books cost 10,500", () => {
  const s = tracker();
  // The second execution reaches the tracker first; its update carries the cumulative figures.
  stepPositions(s, update("o-late", "buy", 50, 110, 100, 105));
  stepPositions(s, update("o-late", "buy", 50, 100, 50, 100));
  const p = s.positions.get("XOM")!;
  assert.equal(p.qty, d(100));
  assert.equal(toDecimal(p.cost), "10500");
  stepPositions(s, update("o-close", "sell", 100, 105, 100, 105));
  assert.equal(toDecimal(s.realized), "0", "a flat round trip at cost realizes nothing");
});

test("a late fill booked at the wrong price: the earlier fill booked first, the later one is priced from the cumulative average", () => {
  const s = tracker();
  stepPositions(s, update("o-2", "buy", 50, 100, 50));
  stepPositions(s, update("o-2", "buy", 50, 110, 100, 105));
  assert.equal(toDecimal(s.positions.get("XOM")!.cost), "10500");
});

test("averageCost divides an already-rounded cost: one fill's average is its price exactly", () => {
  for (const qty of ["0.123456789", "0.333333333", "7.000000001", "1"]) {
    const p = createPosition("XOM");
    applyFill(p, d(qty), d("123.4567"));
    assert.equal(toDecimal(averageCost(p)), "123.4567", `qty ${qty}`);
    applyFill(p, d(qty), d("123.4567"));
    applyFill(p, -d(qty), d("130"));
    assert.equal(toDecimal(averageCost(p)), "123.4567", `qty ${qty} after a partial close`);
  }
});

test("fees not booked: SEC and TAF on sells and CAT on both sides come out of realized P&L and cash", () => {
  const fees = feeSchedule({
    secPerMillion: "27.8",
    tafPerShare: "0.000166",
    tafMaxPerTrade: "8.3",
    catPerShare: "0.0000265",
  });
  const s = tracker({ fees });
  stepPositions(s, holdings("100000"));
  stepPositions(s, update("b", "buy", 1000, 100, 1000));
  // CAT on the buy: 1000 × 0.0000265.
  assert.equal(toDecimal(s.realized), "-0.0265");
  const sold = stepPositions(s, update("s", "sell", 1000, 100, 1000));
  // The risk-manager's daily loss is realized + unrealized of this portfolio: fees included.
  const risk = eventForRisk(ofType(sold, "PublishPortfolio")[0]!, T0);
  assert.equal(risk?.type === "PortfolioChanged" ? toDecimal(risk.realizedPnl) : null, "-2.999");
  // Sell: SEC 100,000 × 0.0000278 = 2.78; TAF 1000 × 0.000166 = 0.166; CAT 0.0265.
  assert.equal(toDecimal(s.fees), "2.999");
  assert.equal(toDecimal(s.realized), "-2.999", "a round trip at cost loses the fees");
  assert.equal(toDecimal(s.cash!), "99997.001");
  assert.equal(toDecimal(s.positions.get("XOM")!.realized), "-2.999");
});

test("pipelines cannot share an account: another pipeline's positions are no break, and the shared cash is not ours", () => {
  const s = tracker({ symbols: ["XOM"], startingEquity: "50000", sharedAccount: true });
  stepPositions(s, buy500());
  const cmds = stepPositions(
    s,
    holdings("7000", [
      { symbol: "XOM", qty: d(100), avgEntryPrice: d(500) },
      { symbol: "TSLA", qty: d(40), avgEntryPrice: d(250) },
    ]),
  );
  assert.deepEqual(ofType(cmds, "PublishReconciliation")[0]?.breaks, []);
  assert.equal(s.reconciled, true);
  assert.equal(s.cash, null, "the account's cash belongs to every pipeline on it");
  assert.equal(equityOf(s), d(50000), "the pipeline's capital + its own P&L");
  // A symbol of our own universe the broker holds and we do not is still a break.
  const other = tracker({ symbols: ["XOM"] });
  const broke = stepPositions(
    other,
    holdings("0", [{ symbol: "XOM", qty: d(1), avgEntryPrice: d(1) }]),
  );
  assert.equal(ofType(broke, "PublishReconciliation")[0]?.ok, false);
});

test("a shared account without the pipeline's own capital is refused, naming the field", () => {
  assert.throws(() => tracker({ sharedAccount: true }), /positions\.sharedAccountCapital/);
});
