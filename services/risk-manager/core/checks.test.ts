import assert from "node:assert/strict";
import { test } from "node:test";
import { stepRisk } from "./step.ts";
import { d, hold, proposal, propose, SECOND, settle, T0, tradableState } from "./test-support.ts";
import type { DailyClose } from "./types.ts";

test("position size: exactly maxPositionShares passes, one share more is refused", () => {
  const s = tradableState({
    maxNotionalPerSymbol: "1000000",
    maxVar99: "1000000",
    maxSectorConcentration: 1,
  });
  hold(s, "XOM", 990, 10);
  assert.equal(propose(s, proposal("XOM", "buy", 10, 10)).reason, "approved");
  const r = propose(s, proposal("XOM", "buy", 1, 10));
  assert.equal(r.approved, false);
  assert.equal(r.reason, "max_position_shares");
  assert.match(r.message, /1001 shares, beyond the limit of 1000/);
});

test("position size counts short positions by magnitude", () => {
  const s = tradableState({
    maxNotionalPerSymbol: "1000000",
    maxVar99: "1000000",
    maxSectorConcentration: 1,
  });
  hold(s, "XOM", -1000, 10);
  assert.equal(propose(s, proposal("XOM", "sell", 1, 10)).reason, "max_position_shares");
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "approved");
});

test("an order that reduces a position passes even above a tightened limit", () => {
  const s = tradableState({
    maxNotionalPerSymbol: "1000000",
    maxVar99: "1000000",
    maxSectorConcentration: 1,
  });
  hold(s, "XOM", 1500, 10);
  const sell = propose(s, proposal("XOM", "sell", 100, 10));
  assert.equal(sell.reason, "approved");
  settle(s, sell, 1400);
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "max_position_shares");
});

test("notional per symbol: 50000 USD passes, one cent beyond is refused", () => {
  const s = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  assert.equal(propose(s, proposal("XOM", "buy", 500, "100")).reason, "approved");
  const r = propose(
    tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 }),
    proposal("XOM", "buy", 500, "100.00002"),
  );
  assert.equal(r.reason, "max_notional_per_symbol");
  assert.match(r.message, /50000\.01 USD, beyond the limit of 50000\.00/);
});

test("open positions: the fifth symbol passes, a sixth is refused, adding to one open passes", () => {
  const s = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  for (const sym of ["A", "B", "C", "D"]) hold(s, sym, 10, 10);
  assert.equal(propose(s, proposal("E", "buy", 10, 10)).reason, "approved");
  const r = propose(s, proposal("F", "buy", 10, 10));
  assert.equal(r.reason, "max_open_positions");
  assert.match(r.message, /6 open positions, beyond the limit of 5/);
  assert.equal(propose(s, proposal("A", "buy", 10, 10)).reason, "approved");
});

test("daily loss: a loss just under the limit passes, a loss equal to it refuses new risk", () => {
  const s = tradableState();
  hold(s, "XOM", 100, 50);
  const pnl = (loss: string) =>
    stepRisk(s, {
      type: "PortfolioChanged",
      timeNs: T0 + SECOND,
      equity: d(100000) - d(loss),
      realizedPnl: -d(loss),
      unrealizedPnl: 0n,
      canTrade: true,
    });
  pnl("4999.99");
  const buy = propose(s, proposal("XOM", "buy", 1, 50));
  assert.equal(buy.reason, "approved");
  settle(s, buy, 101);
  pnl("5000");
  const r = propose(s, proposal("XOM", "buy", 1, 50));
  assert.equal(r.reason, "max_daily_loss");
  assert.equal(
    propose(s, proposal("XOM", "sell", 50, 50)).reason,
    "approved",
    "reducing order passes",
  );
});

test("daily loss is measured from the trading day's first P&L and resets on the next day", () => {
  const s = tradableState();
  const pnl = (timeNs: bigint, total: string) =>
    stepRisk(s, {
      type: "PortfolioChanged",
      timeNs,
      equity: d(100000) + d(total),
      realizedPnl: d(total),
      unrealizedPnl: 0n,
      canTrade: true,
    });
  pnl(T0 + SECOND, "-6000");
  assert.equal(
    propose(s, proposal("XOM", "buy", 1, 50, T0 + 2n * SECOND)).reason,
    "max_daily_loss",
  );
  const nextDay = T0 + 86_400n * SECOND;
  const cmds = pnl(nextDay, "-6000");
  assert.ok(cmds.some((c) => c.type === "PersistRiskState" && c.cause === "day_rolled"));
  assert.equal(propose(s, proposal("XOM", "buy", 1, 50, nextDay)).reason, "approved");
});

/** closesWithReturns builds daily closes (consecutive days up to `lastDay`) with these returns. */
function closesWithReturns(returns: number[], lastDay = 20_000): DailyClose[] {
  let price = 100;
  const first = lastDay - returns.length;
  const out = [{ day: first, close: d(price) }];
  returns.forEach((r, i) => {
    price = Math.round(price * (1 + r) * 1e6) / 1e6;
    out.push({ day: first + i + 1, close: d(price.toFixed(6)) });
  });
  return out;
}

test("VaR: historical simulation refuses exposure whose 99% loss exceeds maxVar99", () => {
  // 100 daily returns: two bad days (-20%, -10%), the rest +1%. k = ⌊100/100⌋+1 = 2 → VaR = 10%.
  const returns = Array.from({ length: 100 }, (_, i) => (i === 30 ? -0.2 : i === 70 ? -0.1 : 0.01));
  const s = tradableState({ maxVar99: "4000", maxSectorConcentration: 1 });
  stepRisk(s, {
    type: "DailyClosesRecorded",
    timeNs: T0,
    symbol: "XOM",
    closes: closesWithReturns(returns),
  });
  const atLimit = propose(s, proposal("XOM", "buy", 400, 100));
  assert.equal(atLimit.reason, "approved", "VaR 4000.00 is at the limit");
  settle(s, atLimit, 400);
  const r = propose(s, proposal("XOM", "buy", 1, 100));
  assert.equal(r.reason, "max_var99");
  assert.match(r.message, /4010\.00 USD, beyond the limit of 4000\.00/);
  assert.equal(
    propose(s, proposal("XOM", "sell", 10, 100)).reason,
    "approved",
    "reducing VaR passes",
  );
});

test("VaR: a hedge that lowers VaR passes even when VaR is above the limit", () => {
  const rets = Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? -0.05 : 0.004));
  const s = tradableState({ maxVar99: "100", maxSectorConcentration: 1, maxOpenPositions: 5 });
  stepRisk(s, {
    type: "DailyClosesRecorded",
    timeNs: T0,
    symbol: "XOM",
    closes: closesWithReturns(rets),
  });
  stepRisk(s, {
    type: "DailyClosesRecorded",
    timeNs: T0,
    symbol: "CVX",
    closes: closesWithReturns(rets),
  });
  hold(s, "XOM", 100, 100);
  const hedge = propose(s, proposal("CVX", "sell", 50, 100));
  assert.equal(hedge.reason, "approved", "short of a perfectly correlated twin");
  settle(s, hedge, -50);
  // Buying the hedge back reduces the CVX position but raises VaR above the limit: refused.
  assert.equal(propose(s, proposal("CVX", "buy", 40, 100)).reason, "max_var99");
});

test("sector concentration: 30% of equity in one sector passes, one share more is refused", () => {
  const s = tradableState();
  hold(s, "MSFT", 100, 100); // 10000 in tech
  assert.equal(propose(s, proposal("AAPL", "buy", 200, 100)).reason, "approved"); // 30000 = 30%
  const r = propose(s, proposal("NVDA", "buy", 1, 100));
  assert.equal(r.reason, "max_sector_concentration");
  assert.match(r.message, /sector tech would hold 30100\.00 USD, beyond 0\.3 of 100000\.00/);
  assert.equal(
    propose(s, proposal("XOM", "buy", 100, 100)).reason,
    "approved",
    "other sectors unaffected",
  );
});

test("sector concentration is measured against gross exposure when that exceeds equity", () => {
  const s = tradableState(
    { maxNotionalPerSymbol: "1000000", maxPositionShares: 100000, maxVar99: "10000000" },
    "10000",
  );
  hold(s, "XOM", 100, 100); // 10000 energy
  hold(s, "JPM", 100, 100); // 10000 financials
  // gross after = 20000 + 8570 = 28570; 30% of that = 8571 → 8570 of tech passes
  assert.equal(propose(s, proposal("AAPL", "buy", 857, 10)).reason, "approved");
  assert.equal(propose(s, proposal("AAPL", "buy", 1000, 10)).reason, "max_sector_concentration");
});

test("working orders count as exposure until they fill or end", () => {
  const s = tradableState({
    maxNotionalPerSymbol: "1000000",
    maxVar99: "1000000",
    maxSectorConcentration: 1,
  });
  const first = propose(s, proposal("XOM", "buy", 600, 10));
  assert.equal(first.reason, "approved");
  assert.equal(propose(s, proposal("XOM", "buy", 600, 10)).reason, "max_position_shares");
  stepRisk(s, {
    type: "OrderFailed",
    timeNs: T0,
    clientOrderId: first.clientOrderId,
    reason: "rejected",
    origin: "broker",
  });
  assert.equal(propose(s, proposal("XOM", "buy", 600, 10)).reason, "approved");
});

test("a partial fill moves exposure from the working order to the position without double counting", () => {
  const s = tradableState({
    maxNotionalPerSymbol: "1000000",
    maxVar99: "1000000",
    maxSectorConcentration: 1,
  });
  const a = propose(s, proposal("XOM", "buy", 600, 10));
  stepRisk(s, {
    type: "OrderProgressed",
    timeNs: T0,
    clientOrderId: a.clientOrderId,
    filledQty: d(200),
    terminal: false,
  });
  hold(s, "XOM", 200, 10);
  assert.equal(propose(s, proposal("XOM", "buy", 400, 10)).reason, "approved");
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "max_position_shares");
});

test("a proposal without quantity, price or signal id is refused as invalid_order", () => {
  const s = tradableState();
  assert.equal(propose(s, proposal("XOM", "buy", 0, 10)).reason, "invalid_order");
  assert.equal(propose(s, proposal("XOM", "buy", 1, 0)).reason, "invalid_order");
  assert.equal(
    propose(s, { ...proposal("XOM", "buy", 1, 10), signalId: "" }).reason,
    "invalid_order",
  );
});
