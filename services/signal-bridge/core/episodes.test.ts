/**
 * Episodes: the model is asked on every ready tick with a rule until the episode (the direction
 * of the votes) has signalled, and again as soon as the direction changes, also straight from
 * bullish to bearish with no quiet tick between.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mulberry32 } from "../../core/random.ts";
import { DEFAULT_SIGNAL_PARAMS } from "./params.ts";
import { SymbolSignal } from "./symbol-signal.ts";

test("the model is asked exactly on the ready ticks of an episode that has not signalled", () => {
  const sig = new SymbolSignal({
    ...DEFAULT_SIGNAL_PARAMS,
    rsiPeriod: 2,
    macdFast: 2,
    macdSlow: 3,
    macdSignal: 2,
    bollingerPeriod: 3,
    minConfidence: 0,
  });
  const next = mulberry32(5);
  let mid = 100;
  let direction = 0;
  let signalled = false;
  let flips = 0;
  for (let i = 0; i < 5000; i++) {
    mid += Math.round((next() - 0.5) * 60) / 100 || 0.01;
    const asked = sig.onTopOfBook({ bidPrice: mid, askPrice: mid, bidSize: 1, askSize: 1 });
    // A coin-flip score never confirms a rule: this reads the tick's votes and signals nothing.
    const votes = sig.decide(0.5).votes;
    if (!sig.ready) continue;
    const now = Math.sign(votes);
    if (now !== direction) {
      if (now * direction === -1) flips++;
      direction = now;
      signalled = false;
    }
    assert.equal(asked, now !== 0 && !signalled, `tick ${i}`);
    if (asked) {
      assert.equal(sig.decide(now > 0 ? 1 : 0).reason, "signal", `tick ${i}`);
      signalled = true;
    }
  }
  assert.ok(flips > 10, `${flips} direct flips between bullish and bearish`);
});
