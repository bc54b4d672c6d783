/**
 * Regression tests for wrong risk decisions found in review; each is named after the defect it
 * pins down and fails against the code that had it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventsForRisk } from "../../execution-engine/core/downstream.ts";
import type { OrderUpdateOut } from "../../execution-engine/core/types.ts";
import { createRiskState, exportRiskState, restoreRiskState } from "./state.ts";
import { riskStatus } from "./status.ts";
import { stepRisk } from "./step.ts";
import {
  brokerFailure,
  d,
  hold,
  proposal,
  propose,
  SECOND,
  SPEC_RISK,
  settle,
  T0,
  tradableState,
} from "./test-support.ts";
import type { DailyClose, RiskEvent } from "./types.ts";

const LAST_DAY = 20_500;

/** closes for consecutive days ending at `lastDay`, with the given returns (oldest first). */
function closes(returns: readonly number[], lastDay = LAST_DAY, skipDay?: number): DailyClose[] {
  let price = 100;
  let day = lastDay - returns.length;
  const out: DailyClose[] = [{ day, close: d(price) }];
  for (const r of returns) {
    day++;
    price *= 1 + r;
    if (day === skipDay) continue;
    out.push({ day, close: d(price.toFixed(9)) });
  }
  return out;
}

function history(state: ReturnType<typeof tradableState>, symbol: string, c: DailyClose[]) {
  stepRisk(state, { type: "DailyClosesRecorded", timeNs: T0, symbol, closes: c });
}

const wide = { maxNotionalPerSymbol: "10000000", maxPositionShares: 100_000 };

test("one short history does not shrink the portfolio VaR window", () => {
  // XOM: 252 days; its three worst days (−8%, −7%, −6%) lie more than a month back.
  const xom = Array.from({ length: 252 }, (_, i) =>
    i === 10 ? -0.08 : i === 40 ? -0.07 : i === 70 ? -0.06 : i % 2 ? 0.001 : -0.001,
  );
  const s = tradableState({ ...wide, maxVar99: "7000", maxSectorConcentration: 1 });
  history(s, "XOM", closes(xom));
  hold(s, "XOM", 1100, 100);
  // k = ⌊252/100⌋ + 1 = 3: the 3rd worst day, −6% of 110 000 = 6 600.
  assert.equal(riskStatus(s).valueAtRisk, d("6600"));
  assert.equal(propose(s, proposal("XOM", "buy", 200, 100)).reason, "max_var99");
  // A month-old listing (25 calm days) held with one share must not cut the window to 25 days.
  history(
    s,
    "NEWCO",
    closes(
      Array.from({ length: 25 }, (_, i) => (i % 2 ? 0.002 : -0.002)),
      LAST_DAY,
    ),
  );
  hold(s, "NEWCO", 1, 100);
  const v = riskStatus(s).valueAtRisk;
  assert.ok(v >= d("6600") && v < d("6610"), `VaR ${v} keeps the full window plus a small add-on`);
  assert.equal(propose(s, proposal("XOM", "buy", 200, 100)).reason, "max_var99");
});

test("histories are aligned by date, so a gap in one does not misalign a hedge", () => {
  // B is A's twin but has no close on one day in the middle (a halt). Long A, short B.
  const rets = Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? -0.03 : 0.015));
  const s = tradableState({ ...wide, maxVar99: "1000000", maxSectorConcentration: 1 });
  history(s, "A", closes(rets));
  history(s, "B", closes(rets, LAST_DAY, LAST_DAY - 75));
  hold(s, "A", 100, 100);
  hold(s, "B", -100, 100);
  // Aligned by date the pair differs only on the two days around the missing close (k = 2 of
  // 150 scenarios: VaR ≈ 0). Aligned by recency every older day pairs a −3% with a +1.5%: 450 USD.
  assert.ok(riskStatus(s).valueAtRisk < d("50"), `VaR ${riskStatus(s).valueAtRisk}`);
});

test("with fewer than 100 days of history the VaR says it is not a measured 99% quantile", () => {
  const rets = Array.from({ length: 60 }, (_, i) => (i === 5 ? -0.05 : 0.001));
  const s = tradableState({ ...wide, maxVar99: "1000", maxSectorConcentration: 1 });
  history(s, "XOM", closes(rets));
  const r = propose(s, proposal("XOM", "buy", 300, 100));
  assert.equal(r.reason, "max_var99");
  // The worst day (−5% of 30 000 = 1 500) is the floor, not the "k-th worst of 60" (k = 1 anyway).
  assert.match(r.message, /only 60 days of history/);
  assert.match(r.message, /VaR would be 1[5-9]\d\d\.\d\d USD/);
});

test("a split-adjusted reload replaces the history instead of appending to it", () => {
  const s = tradableState({ ...wide, maxVar99: "1000", maxSectorConcentration: 1 });
  // Raw closes across a 10:1 split: one −90% day.
  const raw = closes(Array.from({ length: 60 }, (_, i) => (i === 50 ? -0.9 : 0.001)));
  history(s, "NVDA", raw);
  assert.equal(propose(s, proposal("NVDA", "buy", 100, 100)).reason, "max_var99");
  const adjusted = closes(Array.from({ length: 60 }, () => 0.001));
  stepRisk(s, {
    type: "DailyClosesRecorded",
    timeNs: T0,
    symbol: "NVDA",
    closes: adjusted,
    replace: true,
  });
  assert.equal(propose(s, proposal("NVDA", "buy", 100, 100)).reason, "approved");
});

test("a repeated proposal returns the earlier decision and changes nothing", () => {
  const s = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  const p = proposal("XOM", "buy", 600, 10);
  const first = propose(s, p);
  assert.equal(first.approved, true);
  const again = propose(s, { ...p, timeNs: T0 + SECOND, correlationId: "another" });
  assert.deepEqual({ ...again, repeated: false }, first);
  assert.equal(again.repeated, true);
  assert.equal(s.symbols.get("XOM")?.pendingBuy, d(600), "working quantity added once");
  assert.equal(s.approvals, 1);
  stepRisk(s, {
    type: "OrderProgressed",
    timeNs: T0,
    clientOrderId: first.clientOrderId,
    filledQty: 0n,
    terminal: true,
  });
  assert.equal(s.symbols.get("XOM")?.pendingBuy, 0n, "no phantom exposure left behind");
  // A refusal repeated is the same refusal, counted once.
  const big = proposal("XOM", "buy", 5000, 10);
  assert.equal(propose(s, big).reason, "max_position_shares");
  assert.equal(propose(s, big).reason, "max_position_shares");
  assert.equal(s.rejectsByReason["max_position_shares"], 1);
});

test("a proposal repeated after a restart does not add its working order twice", () => {
  const s = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  const p = proposal("XOM", "buy", 600, 10);
  const first = propose(s, p);
  const r = restoreRiskState(
    { ...SPEC_RISK, maxVar99: "1000000", maxSectorConcentration: 1 },
    exportRiskState(s),
    [
      {
        clientOrderId: first.clientOrderId,
        symbol: "XOM",
        side: "buy",
        qty: d(600),
        filledQty: 0n,
      },
    ],
  );
  stepRisk(r, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: d(100000),
    realizedPnl: 0n,
    unrealizedPnl: 0n,
    canTrade: true,
  });
  const again = propose(r, p);
  assert.equal(again.approved, true);
  assert.equal(again.repeated, true);
  assert.deepEqual([again.signalId, again.referencePrice], [p.signalId, p.referencePrice]);
  assert.equal(r.symbols.get("XOM")?.pendingBuy, d(600));
});

test("a working sell does not net against a buy: at the limit, sell 600 working, buy 600 is refused", () => {
  const s = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  hold(s, "XOM", 1000, 10);
  assert.equal(propose(s, proposal("XOM", "sell", 600, 10)).approved, true);
  const buy = propose(s, proposal("XOM", "buy", 600, 10));
  assert.equal(buy.approved, false, "the sell may never fill: the position could reach 1600");
  assert.equal(buy.reason, "max_position_shares");
  assert.match(buy.message, /could reach 1600 shares/);
  // Within the limit on its own side the buy passes; the execution engine holds it until the
  // working sell ends (never sent alongside it).
  hold(s, "XOM", 900, 10);
  assert.equal(propose(s, proposal("XOM", "buy", 100, 10)).reason, "approved");
});

test("working orders on both sides count at their worst end, never at their net", () => {
  // Restored after a restart: a buy 600 and a sell 600 of XOM both working, flat filled.
  const params = { ...SPEC_RISK, maxOpenPositions: 1, maxPositionShares: 1000 };
  const s = restoreRiskState(params, exportRiskState(createRiskState(params)), [
    { clientOrderId: "b", symbol: "XOM", side: "buy", qty: d(600), filledQty: 0n },
    { clientOrderId: "s", symbol: "XOM", side: "sell", qty: d(600), filledQty: 0n },
  ]);
  stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: d(1000000),
    realizedPnl: 0n,
    unrealizedPnl: 0n,
    canTrade: true,
  });
  hold(s, "XOM", 0, 10);
  assert.equal(riskStatus(s).openPositions, 1, "XOM is exposed although the net is zero");
  assert.equal(riskStatus(s).valueAtRisk, d("418.74"), "2.326 · 3% · 600 shares · 10 USD");
  assert.equal(propose(s, proposal("MSFT", "buy", 1, 10)).reason, "max_open_positions");
});

test("an order through zero is refused, not sent for the broker to reject", () => {
  const s = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  hold(s, "XOM", 10, 10);
  const cross = propose(s, proposal("XOM", "sell", 25, 10));
  assert.equal(cross.reason, "crosses_zero");
  assert.match(cross.message, /available to close: 10\b/);
  const close = propose(s, proposal("XOM", "sell", 10, 10));
  assert.equal(close.reason, "approved");
  settle(s, close, 0);
  assert.equal(propose(s, proposal("XOM", "sell", 15, 10)).reason, "approved", "then open short");
  hold(s, "JPM", -5, 10);
  assert.equal(propose(s, proposal("JPM", "buy", 6, 10)).reason, "crosses_zero");
});

test("a standard lot that would go through zero is sized to close the position; a named quantity is not", () => {
  // A partial fill left 7 shares of a 10-share lot: the strategy's next SELL of the standard
  // lot must close them, or the position could never be exited by a fixed-lot strategy.
  const s = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  hold(s, "XOM", 7, 10);
  const exit = propose(s, { ...proposal("XOM", "sell", 10, 10), standardLot: true });
  assert.equal(exit.reason, "approved");
  assert.equal(exit.qty, d(7), "sized to the 7 held");
  assert.match(exit.message, /standard lot of 10 sized to the 7 that close the position/);
  // The 7 are now committed to that working sell: another lot has nothing left to close.
  const again = propose(s, { ...proposal("XOM", "sell", 10, 10), standardLot: true });
  assert.equal(again.reason, "crosses_zero");
  assert.match(again.message, /available to close: 0\b/);
  settle(s, exit, 0);
  // Flat: a sell of the standard lot opens a short of the whole lot.
  const open = propose(s, { ...proposal("XOM", "sell", 10, 10), standardLot: true });
  assert.equal(open.reason, "approved");
  assert.equal(open.qty, d(10));
  // Short 4 (a partial fill): a buy of the standard lot closes exactly the 4.
  hold(s, "JPM", -4, 10);
  const cover = propose(s, { ...proposal("JPM", "buy", 10, 10), standardLot: true });
  assert.equal(cover.reason, "approved");
  assert.equal(cover.qty, d(4));
  // A quantity the strategy named is never changed: it is refused.
  hold(s, "CVX", 3, 10);
  assert.equal(propose(s, proposal("CVX", "sell", 10, 10)).reason, "crosses_zero");
  // A standard lot that does not reach zero keeps its size.
  hold(s, "BP", 25, 10);
  assert.equal(propose(s, { ...proposal("BP", "sell", 10, 10), standardLot: true }).qty, d(10));
});

const breakerParams = {
  circuitBreaker: { failureThreshold: 5, windowSeconds: 60, cooldownSeconds: 300 },
};

function engineUpdate(reason: string, i: number): OrderUpdateOut {
  return {
    clientOrderId: `o${i}`,
    signalId: `s${i}`,
    correlationId: `c${i}`,
    symbol: "XOM",
    side: "buy",
    status: "Rejected",
    event: "rejected",
    fillQty: 0n,
    fillPrice: null,
    filledQty: 0n,
    filledAvgPrice: null,
    qty: d(1),
    terminal: true,
    reason,
    timeNs: T0,
  };
}

test("the engine's own refusals do not open the breaker; broker rejects do", () => {
  const s = tradableState(breakerParams);
  const feed = (events: RiskEvent[]) => {
    for (const e of events) stepRisk(s, e);
  };
  for (let i = 0; i < 25; i++) {
    const reason = ["rate_limited", "slippage", "no_last_price", "kill_switch"][i % 4]!;
    feed(eventsForRisk(engineUpdate(reason, i)));
  }
  assert.equal(s.breaker.status, "closed", "25 engine refusals are not broker failures");
  for (let i = 0; i < 5; i++)
    feed(eventsForRisk(engineUpdate("insufficient buying power", 100 + i)));
  assert.equal(s.breaker.status, "open");
});

test("an open breaker lets a reducing order through and refuses growing ones", () => {
  const s = tradableState(breakerParams);
  hold(s, "XOM", 300, 10);
  for (let i = 0; i < 5; i++) brokerFailure(s, T0, `x${i}`);
  assert.equal(s.breaker.status, "open");
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "circuit_open");
  const flatten = propose(s, proposal("XOM", "sell", 300, 10));
  assert.equal(flatten.reason, "approved");
  assert.equal(flatten.breakerTest, false);
});

test("with equity unknown an opening is refused as equity_unknown, not max_sector_concentration", () => {
  const s = createRiskState(SPEC_RISK);
  stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: null,
    realizedPnl: 0n,
    unrealizedPnl: 0n,
    canTrade: true,
  });
  const r = propose(s, proposal("XOM", "buy", 1, 10));
  assert.equal(r.reason, "equity_unknown");
  hold(s, "XOM", 10, 10);
  assert.equal(propose(s, proposal("XOM", "sell", 5, 10)).reason, "approved", "reducing passes");
});
