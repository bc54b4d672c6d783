/**
 * The tick memo: a signal fed the ticks another signal of the same parameters computed
 * (saveTick → onSavedTopOfBook) must answer, decide and describe itself exactly as that signal.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mulberry32 } from "../../core/random.ts";
import { DEFAULT_SIGNAL_PARAMS, type SignalParams } from "./params.ts";
import { SymbolSignal, TICK_MEMO_WIDTH, type TopOfBook } from "./symbol-signal.ts";

const SHORT: SignalParams = {
  ...DEFAULT_SIGNAL_PARAMS,
  rsiPeriod: 2,
  macdFast: 2,
  macdSlow: 3,
  macdSignal: 2,
  bollingerPeriod: 3,
};

test("a signal fed saved ticks is indistinguishable from the signal that computed them", () => {
  for (const params of [DEFAULT_SIGNAL_PARAMS, SHORT]) {
    const live = new SymbolSignal(params);
    const replay = new SymbolSignal(params);
    // Three slots, used in turn: the memo is read at its offset, not at the array's start.
    const memo = new Float64Array(3 * TICK_MEMO_WIDTH);
    const liveValues = new Float64Array(4);
    const replayValues = new Float64Array(4);
    const next = mulberry32(11);
    let mid = 100;
    let signals = 0;
    for (let i = 0; i < 3000; i++) {
      // First an empty book (no mid yet), then a walk with some size-only changes.
      if (i > 0 && next() < 0.8) mid += Math.round((next() - 0.5) * 40) / 100;
      const top: TopOfBook =
        i === 0
          ? { bidPrice: 0, askPrice: 0, bidSize: 0, askSize: 0 }
          : { bidPrice: mid - 0.01, askPrice: mid + 0.01, bidSize: 1 + (i % 7), askSize: 3 };
      const o = (i % 3) * TICK_MEMO_WIDTH;
      const asked = live.onTopOfBook(top);
      live.saveTick(memo, o);
      assert.equal(replay.onSavedTopOfBook(top, memo, o), asked, `answer at ${i}`);
      assert.deepEqual([replay.ready, replay.ticks], [live.ready, live.ticks], `readiness at ${i}`);
      live.indicatorValues(liveValues, 0);
      replay.indicatorValues(replayValues, 0);
      assert.deepEqual(replayValues, liveValues, `indicators at ${i}`);
      assert.deepEqual(replay.writeFeatures(), live.writeFeatures(), `features at ${i}`);
      const score = asked ? next() : undefined;
      const d = { ...live.decide(score) };
      assert.deepEqual({ ...replay.decide(score) }, d, `decision at ${i}`);
      if (d.reason === "signal") signals++;
    }
    assert.ok(signals > 3, `${signals} signals`);
  }
});
