/**
 * The tick memo: a strategy engine replaying what a shadow engine recorded on the same quotes
 * decides exactly as one that computes everything itself (the built-in rules + model strategy
 * through its saved ticks, a library-feature strategy through the saved feature values), and a
 * quote that is not the recorded one is refused.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUILTIN_STRATEGIES } from "../signal-bridge/strategies/index.ts";
import type { ModelRef } from "../signal-bridge/strategy/api.ts";
import { StrategyEngine } from "../signal-bridge/strategy/engine.ts";
import { type ReplayQuote, stepQuote } from "../signal-bridge/strategy/replay.ts";
import { prepareSlot } from "../signal-bridge/strategy/slot.ts";
import { T0, testConfig } from "./test-support.ts";
import { TickTape } from "./tick-memo.ts";

/** A seeded random walk of two symbols, with size-only changes (the mid repeats) among them. */
function quotes(n: number): ReplayQuote[] {
  let x = 12345;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  const mids: Record<string, number> = { AAPL: 190, MSFT: 410 };
  const out: ReplayQuote[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = next() < 0.5 ? "AAPL" : "MSFT";
    const u = next();
    if (u > 0.3) mids[symbol] = Math.round((mids[symbol]! + (u - 0.65) * 0.2) * 100) / 100;
    const mid = mids[symbol]!;
    out.push({
      symbol,
      timeNs: T0 + BigInt(i) * 100_000_000n,
      bidPrice: mid - 0.01,
      bidSize: 100 + Math.floor(next() * 5) * 100,
      askPrice: mid + 0.01,
      askSize: 100 + Math.floor(next() * 5) * 100,
    });
  }
  return out;
}

/** A stand-in model: a fixed logistic function of the inputs (a pure function, as a model is). */
const score = (_m: ModelRef, input: Float32Array) => {
  let z = 0;
  for (let i = 0; i < input.length; i++) z += Math.sin(i + 1) * input[i]!;
  return 1 / (1 + Math.exp(-z / 50));
};

async function slots() {
  const { kernel } = await testConfig(["AAPL", "MSFT"]);
  const ma = prepareSlot(BUILTIN_STRATEGIES["ma-crossover"]!, {
    id: "ma",
    params: { fast: 3, slow: 8 },
  });
  return { slots: [...kernel.strategies.slots, ma], rules: kernel.strategies.rules };
}

/** Every outcome with its decisions and, on a signal, the leader's indicators, one line each. */
function lines(engine: StrategyEngine, qs: readonly ReplayQuote[], out: string[]): void {
  const inputs = new Map<string, Float32Array>();
  for (const q of qs) {
    const o = stepQuote(engine, q, inputs, score);
    const votes = engine.decisions.map((d) => `${d.direction}:${d.strength}:${d.reason}`).join(",");
    const shown = o.direction === 0 ? "" : JSON.stringify(engine.indicatorsOf(o.leader) ?? {});
    out.push(
      `${o.symbol} ${o.direction} ${o.confidence} ${o.leader} ${o.reason} ${votes} ${shown}`,
    );
  }
}

describe("tick memo", () => {
  it("a replaying engine decides as one computing its own indicators", async () => {
    const { slots: s, rules } = await slots();
    const qs = quotes(6000);
    const own: string[] = [];
    lines(new StrategyEngine(s, rules), qs, own);

    // The shadow runs a chunk ahead (no scores, as the prefetcher's); the kernel's engine
    // replays with a lag of one chunk, the tape compacted between chunks.
    const tape = new TickTape();
    const shadow = new StrategyEngine(s, rules);
    shadow.useTickMemo(tape, "record");
    const replaying = new StrategyEngine(s, rules);
    replaying.useTickMemo(tape, "replay");
    const replayed: string[] = [];
    const inputs = new Map<string, Float32Array>();
    const chunk = 700;
    for (let from = 0; from < qs.length + chunk; from += chunk) {
      tape.compact();
      for (const q of qs.slice(from, from + chunk)) stepQuote(shadow, q, inputs, undefined);
      if (from >= chunk) lines(replaying, qs.slice(from - chunk, from), replayed);
    }
    assert.equal(tape.pending, 0);
    const signals = own.filter((l) => l.split(" ")[1] !== "0");
    assert.ok(signals.length >= 10, `the quotes make signals (${signals.length})`);
    assert.ok(
      signals.some((l) => l.split(" ")[3] === "1"),
      "the feature strategy leads some",
    );
    assert.ok(
      signals.some((l) => l.split(" ")[3] === "0"),
      "the model strategy leads some",
    );
    assert.equal(replayed.length, own.length);
    assert.deepEqual(replayed, own);
  });

  it("refuses a quote that is not the one the shadow recorded", async () => {
    const { slots: s, rules } = await slots();
    const [a, b] = quotes(2);
    const tape = new TickTape();
    const shadow = new StrategyEngine(s, rules);
    shadow.useTickMemo(tape, "record");
    stepQuote(shadow, a!, new Map(), undefined);
    const replaying = new StrategyEngine(s, rules);
    replaying.useTickMemo(tape, "replay");
    const other = { ...a!, bidSize: a!.bidSize + 1 };
    assert.throws(() => stepQuote(replaying, other, new Map(), score), /tick memo out of step/);
    assert.throws(() => replaying.useTickMemo(tape, "record"), /already seen quotes/);
    const fresh = new StrategyEngine(s, rules);
    fresh.useTickMemo(tape, "replay");
    stepQuote(fresh, a!, new Map(), score);
    assert.throws(() => stepQuote(fresh, b!, new Map(), score), /out of step.*none/);
  });
});
