import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { createDrawdown, drawdownOf, observeEquity } from "./drawdown.ts";
import { restorePositionState, snapshotOf } from "./state.ts";
import { stepPositions } from "./step.ts";
import { d, fill, ofType, quote, SECOND, SPEC_POSITIONS, T0, tracker } from "./test-support.ts";

test("the alert level lies in (0, 100]; the re-arm level below it, one point lower by default", () => {
  const refused = (alert: number, rearm: number | undefined, message: RegExp) =>
    assert.throws(
      () => createDrawdown(alert, rearm),
      (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && message.test(e.message),
    );
  refused(0, undefined, /^positions\.drawdownAlertPct: must be in \(0, 100\], got 0$/);
  refused(100.5, undefined, /got 100\.5/);
  refused(5, 5, /^positions\.drawdownRearmPct: must be in \[0, drawdownAlertPct\), got 5$/);
  refused(5, -1, /got -1/);
  assert.equal(createDrawdown(100).alertFraction, d(1));
  assert.equal(createDrawdown(100).rearmFraction, d("0.99"));
  assert.equal(createDrawdown(5).rearmFraction, d("0.04"));
  assert.equal(createDrawdown(1).rearmFraction, d("0.005"), "at 1% or less: half the alert level");
  assert.equal(createDrawdown(0.5).rearmFraction, d("0.0025"));
  assert.equal(createDrawdown(5, 0).rearmFraction, 0n, "re-arm only at a new peak");
  assert.equal(createDrawdown(5).alerted, false);
  assert.equal(createDrawdown(5).peak, null);
});

test("alert at exactly the level, recover only above the re-arm level, and a new peak moves both", () => {
  const dd = createDrawdown(5);
  assert.equal(observeEquity(dd, d(1000)), null);
  assert.equal(dd.peak, d(1000));
  assert.equal(observeEquity(dd, d("950.01")), null);
  assert.equal(observeEquity(dd, d(950)), "alert", "5% exactly");
  assert.equal(observeEquity(dd, d(900)), null, "one alert per crossing");
  assert.equal(observeEquity(dd, d(960)), null, "4% is the re-arm level, not above it");
  assert.equal(observeEquity(dd, d("960.01")), "recovered");
  assert.equal(observeEquity(dd, d(1000)), null);
  assert.equal(observeEquity(dd, d(2000)), null);
  assert.equal(dd.peak, d(2000));
  assert.equal(observeEquity(dd, d(1901)), null, "measured from the new peak: 4.95%");
  assert.equal(observeEquity(dd, d(1900)), "alert");
});

test("without a positive peak there is no drawdown to alert on", () => {
  const dd = createDrawdown(5);
  assert.equal(observeEquity(dd, 0n), null);
  assert.equal(observeEquity(dd, d(-10)), null);
  assert.equal(dd.peak, 0n, "a first equity of zero is the peak");
  assert.equal(drawdownOf(dd, d(-10)), 0n);
  assert.equal(drawdownOf(createDrawdown(5), d(10)), 0n, "no peak yet");
});

test("drawdown is the fall from the peak as a fraction, zero at or above the peak or without equity", () => {
  const dd = createDrawdown(5);
  observeEquity(dd, d(1000));
  assert.equal(drawdownOf(dd, d(900)), d("0.1"));
  assert.equal(drawdownOf(dd, d(1000)), 0n);
  assert.equal(drawdownOf(dd, d(1100)), 0n);
  assert.equal(drawdownOf(dd, null), 0n);
});

test("a restart resumes from the last snapshot's peak and alert flag", () => {
  const s = tracker({ startingEquity: "100000" });
  stepPositions(s, fill("XOM", "buy", 100, 100));
  stepPositions(s, quote("XOM", 40, 40, T0 + SECOND));
  assert.equal(s.drawdown.alerted, true, "6000 of 100000 lost");
  const snap = JSON.parse(JSON.stringify(snapshotOf(s, T0 + SECOND)));
  const r = restorePositionState({ ...SPEC_POSITIONS, startingEquity: "100000" }, snap);
  assert.equal(r.drawdown.peak, d(100000));
  assert.equal(r.drawdown.alerted, true);
  assert.equal(r.drawdown.alertEquity, d(95000), "the thresholds follow the restored peak");
  assert.equal(
    restorePositionState(SPEC_POSITIONS, { ...snap, peakEquity: null }).drawdown.peak,
    null,
  );
  assert.equal(restorePositionState(SPEC_POSITIONS, null).drawdown.peak, null);
});

test("snapshots list positions held or with realized P&L, by symbol", () => {
  const s = tracker({ startingEquity: "100000" });
  stepPositions(s, fill("XOM", "buy", 10, 100));
  stepPositions(s, fill("AAPL", "buy", 5, 200));
  stepPositions(s, fill("AAPL", "sell", 5, 210));
  stepPositions(s, fill("MSFT", "buy", 1, 300));
  stepPositions(s, fill("MSFT", "sell", 1, 300));
  const snap = snapshotOf(s, T0);
  assert.deepEqual(
    snap.positions.map((p) => [p.symbol, p.qty, p.realizedPnl]),
    [
      ["AAPL", "0", "50"],
      ["XOM", "10", "0"],
    ],
    "MSFT is flat with nothing realized",
  );
  assert.equal(snap.cash, null);
  assert.equal(snap.equity, "100050");
  assert.equal(tracker().drawdown.peak, null);
  assert.equal(snapshotOf(tracker(), T0).equity, null, "no cash and no starting equity: unknown");
});

test("a quote marks at the mid, or at the one side quoted; a zero quote or trade marks nothing", () => {
  const s = tracker({ startingEquity: "100000" });
  stepPositions(s, fill("XOM", "buy", 10, 100));
  const mark = () => s.positions.get("XOM")?.mark;
  stepPositions(s, quote("XOM", 101, 103));
  assert.equal(mark(), d(102));
  stepPositions(s, quote("XOM", 0, 104));
  assert.equal(mark(), d(104), "ask only");
  stepPositions(s, quote("XOM", 99, 0));
  assert.equal(mark(), d(99), "bid only");
  stepPositions(s, quote("XOM", 0, 0));
  assert.equal(mark(), d(99), "no price at all");
  stepPositions(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: 0n });
  assert.equal(mark(), d(99));
  stepPositions(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: d(98) });
  assert.equal(mark(), d(98));
  assert.equal(s.marketValue, d(980), "the portfolio's market value follows the mark");
  assert.equal(s.unrealized, d(-20));
  assert.deepEqual(ofType(stepPositions(s, quote("NVDA", 1, 1)), "PublishPosition"), []);
});

test("bad intervals are refused by name", () => {
  for (const [field, value, message] of [
    [
      "reconcileIntervalSeconds",
      0,
      /^positions\.reconcileIntervalSeconds: must be a positive integer, got 0$/,
    ],
    ["snapshotIntervalSeconds", 1.5, /^positions\.snapshotIntervalSeconds: .* got 1\.5$/],
    [
      "portfolioPublishIntervalMs",
      -1,
      /^positions\.portfolioPublishIntervalMs: must be a non-negative integer, got -1$/,
    ],
    ["portfolioPublishIntervalMs", 0.5, /got 0\.5$/],
  ] as const) {
    assert.throws(
      () => tracker({ [field]: value }),
      (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && message.test(e.message),
    );
  }
  assert.equal(tracker({ snapshotIntervalSeconds: 1 }).config.snapshotIntervalNs, SECOND);
  assert.equal(tracker({ portfolioPublishIntervalMs: 0 }).config.publishIntervalNs, 0n);
});
