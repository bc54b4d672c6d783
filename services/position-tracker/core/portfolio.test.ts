import assert from "node:assert/strict";
import { test } from "node:test";
import { positionView, snapshotOf } from "./state.ts";
import { stepPositions } from "./step.ts";
import { d, fill, ofType, quote, SECOND, T0, tracker } from "./test-support.ts";

test("adding to a position averages its cost; the portfolio's market value counts the symbol once", () => {
  const s = tracker({ startingEquity: "100000" });
  stepPositions(s, fill("XOM", "buy", 10, 100));
  stepPositions(s, fill("XOM", "buy", 10, 110));
  const p = s.positions.get("XOM")!;
  assert.equal(positionView(s, p).avgCost, d(105));
  assert.equal(s.marketValue, d(2200), "20 shares marked at the last fill, 110");
  assert.equal(s.unrealized, d(100));
});

test("a position shows its sector from the map, UNKNOWN for a symbol outside it", () => {
  const s = tracker({ sectors: { XOM: "energy" } });
  stepPositions(s, fill("XOM", "buy", 1, 100));
  stepPositions(s, fill("ZZZZ", "buy", 1, 100));
  assert.equal(positionView(s, s.positions.get("XOM")!).sector, "energy");
  assert.equal(positionView(s, s.positions.get("ZZZZ")!).sector, "UNKNOWN");
});

test("snapshots sort any number of symbols and carry the broker's cash once it is taken", () => {
  const s = tracker();
  for (const sym of ["XOM", "AAPL", "NVDA", "JPM", "MSFT"])
    stepPositions(s, fill(sym, "buy", 1, 10));
  stepPositions(s, {
    type: "BrokerPositionsReceived",
    timeNs: T0,
    positions: ["XOM", "AAPL", "NVDA", "JPM", "MSFT"].map((symbol) => ({
      symbol,
      qty: d(1),
      avgEntryPrice: d(10),
    })),
    cash: d(950),
  });
  const snap = snapshotOf(s, T0);
  assert.deepEqual(
    snap.positions.map((p) => p.symbol),
    ["AAPL", "JPM", "MSFT", "NVDA", "XOM"],
  );
  assert.equal(snap.cash, "950");
  assert.equal(snap.equity, "1000");
});

test("an alert or a recovery publishes the portfolio at once, between the regular publications", () => {
  const s = tracker({ startingEquity: "10000", portfolioPublishIntervalMs: 60_000 });
  stepPositions(s, fill("XOM", "buy", 100, 100));
  const t = T0 + SECOND;
  const alert = stepPositions(s, quote("XOM", 90, 90, t));
  assert.equal(ofType(alert, "PublishDrawdownAlert").length, 1);
  assert.equal(ofType(alert, "PublishPortfolio").length, 1);
  assert.equal(
    ofType(stepPositions(s, quote("XOM", 89, 89, t + SECOND)), "PublishPortfolio").length,
    0,
  );
  const recovered = stepPositions(s, quote("XOM", 100, 100, t + 2n * SECOND));
  assert.equal(ofType(recovered, "PublishDrawdownRecovered").length, 1);
  assert.equal(ofType(recovered, "PublishPortfolio").length, 1);
});
