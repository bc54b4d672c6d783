import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { toDecimal } from "../../core/money.ts";
import { canTrade, equityOf, restorePositionState, snapshotOf } from "./state.ts";
import { stepPositions } from "./step.ts";
import { d, fill, ofType, quote, SECOND, SPEC_POSITIONS, T0, tracker } from "./test-support.ts";

test("a fill publishes the position and the portfolio; a duplicate fill changes nothing", () => {
  const s = tracker({ startingEquity: "100000" });
  const f = fill("XOM", "buy", 10, 100);
  const cmds = stepPositions(s, f);
  assert.equal(ofType(cmds, "PublishPosition")[0]?.position.qty, d(10));
  assert.equal(ofType(cmds, "PublishPortfolio")[0]?.portfolio.equity, d(100000));
  assert.equal(stepPositions(s, f).length, 0);
  const partial = { ...f, fillQty: d(5), filledQty: d(5) };
  assert.equal(stepPositions(s, partial).length, 0, "an older cumulative figure is stale");
  assert.equal(s.positions.get("XOM")?.qty, d(10));
});

test("a fill whose cumulative figure skips an earlier one books the whole difference", () => {
  const s = tracker();
  const f = fill("XOM", "buy", 4, 100);
  stepPositions(s, f);
  stepPositions(s, { ...f, fillQty: d(3), filledQty: d(10) });
  assert.equal(s.positions.get("XOM")?.qty, d(10));
});

test("every quote marks the position to market", () => {
  const s = tracker({ startingEquity: "100000", portfolioPublishIntervalMs: 0 });
  stepPositions(s, fill("XOM", "buy", 100, 100));
  stepPositions(s, fill("AAPL", "sell", 10, 200));
  const cmds = stepPositions(s, quote("XOM", "101.9", "102.1", T0 + 1n));
  assert.equal(s.positions.get("XOM")?.unrealized, d(200));
  assert.equal(ofType(cmds, "PublishPortfolio")[0]?.portfolio.unrealizedPnl, d(200));
  stepPositions(s, quote("AAPL", "209", "211", T0 + 2n));
  assert.equal(s.unrealized, d(100));
  assert.equal(equityOf(s), d(100100));
  assert.equal(stepPositions(s, quote("MSFT", 1, 2)).length, 0, "no position, no work");
});

test("portfolio updates caused by quotes are throttled on event time", () => {
  const s = tracker({ startingEquity: "100000" });
  stepPositions(s, fill("XOM", "buy", 1, 100));
  let published = 0;
  for (let i = 1n; i <= 100n; i++) {
    published += ofType(
      stepPositions(s, quote("XOM", 100, 100, T0 + i * 50_000_000n)),
      "PublishPortfolio",
    ).length;
  }
  assert.equal(published, 5, "5 s of quotes every 50 ms → one a second");
});

test("equity is cash + market value once the broker's cash is known", () => {
  const s = tracker({ startingEquity: "1" });
  stepPositions(s, { type: "BrokerPositionsReceived", timeNs: T0, positions: [], cash: d(50000) });
  stepPositions(s, fill("XOM", "buy", 100, 100));
  assert.equal(s.cash, d(40000));
  stepPositions(s, quote("XOM", 110, 110));
  assert.equal(equityOf(s), d(51000));
});

test("drawdown alert fires once per crossing, with hysteresis", () => {
  const s = tracker({ startingEquity: "100000", portfolioPublishIntervalMs: 0 });
  stepPositions(s, fill("XOM", "buy", 1000, 100));
  const at = (price: string) => stepPositions(s, quote("XOM", price, price));
  const alerts = (cmds: ReturnType<typeof at>) => ofType(cmds, "PublishDrawdownAlert");
  assert.equal(alerts(at("95.01")).length, 0, "4.99%");
  const first = alerts(at("95"));
  assert.equal(first.length, 1, "exactly 5% alerts");
  assert.equal(toDecimal(first[0]!.drawdown), "0.05");
  assert.equal(alerts(at("94")).length, 0, "deeper: no repeat");
  assert.equal(alerts(at("95.5")).length, 0, "4.5%: still within the hysteresis band");
  assert.equal(ofType(at("95.9"), "PublishDrawdownRecovered").length, 0, "4.1%");
  assert.equal(ofType(at("96.01"), "PublishDrawdownRecovered").length, 1, "below 4%: re-armed");
  assert.equal(alerts(at("94.9")).length, 1, "a new crossing alerts again");
});

test("a new equity peak moves the alert level", () => {
  const s = tracker({ startingEquity: "100000" });
  stepPositions(s, fill("XOM", "buy", 1000, 100));
  stepPositions(s, quote("XOM", 110, 110)); // equity 110000
  assert.equal(s.drawdown.peak, d(110000));
  assert.equal(
    ofType(stepPositions(s, quote("XOM", 105, 105)), "PublishDrawdownAlert").length,
    0,
    "4.5%",
  );
  assert.equal(
    ofType(stepPositions(s, quote("XOM", "104.5", "104.5")), "PublishDrawdownAlert").length,
    1,
    "5%",
  );
});

test("reconciliation lists breaks, and trading is gated until one passes", () => {
  const s = tracker();
  assert.equal(canTrade(s), false);
  stepPositions(s, fill("XOM", "buy", 10, 100));
  stepPositions(s, fill("AAPL", "sell", 5, 200));
  const bad = stepPositions(s, {
    type: "BrokerPositionsReceived",
    timeNs: T0,
    positions: [
      { symbol: "XOM", qty: d(10), avgEntryPrice: d(100) },
      { symbol: "MSFT", qty: d(3), avgEntryPrice: d(300) },
    ],
  });
  const r = ofType(bad, "PublishReconciliation")[0]!;
  assert.equal(r.ok, false);
  assert.deepEqual(r.breaks, [
    { symbol: "AAPL", ours: d(-5), theirs: 0n },
    { symbol: "MSFT", ours: 0n, theirs: d(3) },
  ]);
  assert.equal(canTrade(s), false);
  assert.equal(ofType(bad, "PublishPortfolio")[0]?.portfolio.canTrade, false);
  const good = stepPositions(s, {
    type: "BrokerPositionsReceived",
    timeNs: T0,
    positions: [
      { symbol: "AAPL", qty: d(-5), avgEntryPrice: d(200) },
      { symbol: "XOM", qty: d(10), avgEntryPrice: d(100) },
    ],
  });
  assert.equal(ofType(good, "PublishReconciliation")[0]?.ok, true);
  assert.equal(ofType(good, "PublishPortfolio")[0]?.portfolio.canTrade, true);
  stepPositions(s, fill("XOM", "buy", 1, 100));
  stepPositions(s, { type: "BrokerPositionsReceived", timeNs: T0, positions: [] });
  assert.equal(canTrade(s), false, "a later break closes the gate again");
});

test("adopting the broker's positions replaces ours and opens the gate", () => {
  const s = tracker({ startingEquity: "100000" });
  stepPositions(s, fill("XOM", "buy", 10, 100));
  const cmds = stepPositions(s, {
    type: "BrokerPositionsAdopted",
    timeNs: T0,
    positions: [{ symbol: "MSFT", qty: d(3), avgEntryPrice: d(300) }],
  });
  assert.equal(s.positions.get("XOM")?.qty, 0n);
  assert.equal(s.positions.get("MSFT")?.qty, d(3));
  assert.equal(s.marketValue, d(900));
  assert.equal(canTrade(s), true);
  assert.equal(ofType(cmds, "PublishReconciliation")[0]?.ok, true);
});

test("a snapshot is written each time event time crosses an interval boundary", () => {
  const s = tracker({ snapshotIntervalSeconds: 60 });
  const base = (T0 / (60n * SECOND)) * 60n * SECOND; // a minute boundary
  const snaps = (t: bigint) =>
    ofType(stepPositions(s, { type: "TimeAdvanced", timeNs: t }), "WriteSnapshot");
  assert.equal(snaps(base + 10n * SECOND).length, 0, "the first event only starts the clock");
  assert.equal(snaps(base + 59n * SECOND).length, 0);
  assert.equal(snaps(base + 60n * SECOND).length, 1);
  assert.equal(snaps(base + 61n * SECOND).length, 0);
  assert.equal(snaps(base + 600n * SECOND).length, 1, "a long gap writes one snapshot, not nine");
  stepPositions(s, fill("XOM", "buy", 2, 50, base + 610n * SECOND));
  const snap = snaps(base + 660n * SECOND)[0]!.snapshot;
  assert.deepEqual(snap.positions, [
    { symbol: "XOM", qty: "2", avgCost: "50", mark: "50", realizedPnl: "0" },
  ]);
});

test("restore keeps the peak and the alert flag; fills replay idempotently", () => {
  const s = tracker({ startingEquity: "100000" });
  const fills = [fill("XOM", "buy", 1000, 100), fill("XOM", "sell", 400, 94)];
  for (const f of fills) stepPositions(s, f);
  stepPositions(s, quote("XOM", 94, 94));
  assert.equal(s.drawdown.alerted, true);
  const saved = JSON.parse(JSON.stringify(snapshotOf(s, T0)));
  const r = restorePositionState({ ...SPEC_POSITIONS, startingEquity: "100000" }, saved);
  for (const f of [...fills, ...fills]) stepPositions(r, f);
  assert.equal(r.positions.get("XOM")?.qty, d(600));
  assert.equal(r.realized, s.realized);
  assert.equal(r.drawdown.peak, d(100000));
  assert.equal(
    ofType(stepPositions(r, quote("XOM", 93, 93)), "PublishDrawdownAlert").length,
    0,
    "already alerted",
  );
});

test("a drawdown level out of range is refused as TP_ERR_CONFIG naming the field", () => {
  assert.throws(
    () => tracker({ drawdownAlertPct: 0 }),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_CONFIG") && /positions\.drawdownAlertPct/.test(e.message),
  );
  assert.throws(() => tracker({ drawdownRearmPct: 7 }), /positions\.drawdownRearmPct/);
});
