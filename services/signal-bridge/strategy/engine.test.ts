import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { isTradepipeError } from "../../core/errors.ts";
import { DEFAULT_SIGNAL_PARAMS } from "../core/params.ts";
import { SymbolSignal } from "../core/symbol-signal.ts";
import { syntheticMarket } from "../model/synthetic-market.ts";
import { BUILTIN_STRATEGIES } from "../strategies/index.ts";
import {
  act,
  type Decision,
  defineStrategy,
  feature,
  hold,
  type StrategyDefinition,
} from "./api.ts";
import { StrategyEngine } from "./engine.ts";
import { type ReplayQuote, replayStrategies } from "./replay.ts";
import { prepareSlot, type StrategyConfig } from "./slot.ts";

const RULES = { minConfidence: 0, defaultQty: 10 };
const T0 = 1_767_000_000_000_000_000n;

/** A deterministic stand-in for the ONNX model: a squashed sum of the features. */
const fakeModel = (_m: unknown, input: Float32Array) => {
  let s = 0;
  for (const x of input) s += x;
  return 1 / (1 + Math.exp(-s / 10));
};

function quotesOf(symbol: string, seed: number, ticks: number, startPrice = 100): ReplayQuote[] {
  return syntheticMarket({ seed, ticks, startPrice }).map((t, i) => ({
    symbol,
    timeNs: T0 + BigInt(i) * 1_000_000n,
    ...t,
  }));
}

const builtin = (config: Partial<StrategyConfig> = {}) =>
  prepareSlot(BUILTIN_STRATEGIES["rules-model"]!, { id: "rules-model", ...config });

/** A strategy that says `direction` with `strength` on every tick. */
function constant(direction: 1 | -1 | 0, strength: number, targetQty = 0): StrategyDefinition {
  return defineStrategy({
    name: "constant",
    description: "test",
    params: Type.Object({}),
    create: () => ({
      onTick(_t, _f, out) {
        if (direction === 0) hold(out, "flat");
        else act(out, direction, strength, "always");
        out.targetQty = targetQty;
        return false;
      },
    }),
  }) as unknown as StrategyDefinition;
}

describe("the built-in strategy through the API", () => {
  it("gives exactly the decisions SymbolSignal gives when called directly", () => {
    const quotes = [...quotesOf("AAPL", 21, 6000, 187), ...quotesOf("MSFT", 22, 6000, 410)];
    const direct: string[] = [];
    const sigs = new Map<string, SymbolSignal>();
    const input = new Float32Array(8);
    for (const q of quotes) {
      const sig = sigs.get(q.symbol) ?? new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
      sigs.set(q.symbol, sig);
      const needs = sig.onTopOfBook(q);
      const d = sig.decide(needs ? fakeModel(null, sig.writeFeatures(input)) : undefined);
      if (d.action !== "HOLD") direct.push(`${q.symbol} ${q.timeNs} ${d.action} ${d.confidence}`);
    }
    const viaApi = replayStrategies([builtin()], RULES, quotes, fakeModel).signals.map(
      (s) => `${s.symbol} ${s.timeNs} ${s.direction === 1 ? "BUY" : "SELL"} ${s.confidence}`,
    );
    assert.ok(direct.length > 10, `enough signals to compare (${direct.length})`);
    assert.deepEqual(viaApi, direct);
  });

  it("takes the spec's strategy block as parameters, with the same refusals", () => {
    assert.throws(
      () => builtin({ params: { macdFast: 30 } }),
      (e: unknown) =>
        isTradepipeError(e, "TP_ERR_CONFIG") &&
        /strategy "rules-model": params\.macdFast must be below macdSlow/.test(e.message),
    );
  });
});

describe("parameters are validated at start, naming the strategy and the field", () => {
  const ma = BUILTIN_STRATEGIES["ma-crossover"]!;
  const cases: [unknown, RegExp][] = [
    [{ fast: "ten" }, /strategy "trend" \(spec\.strategies\[1\]\): params\.fast expected integer/],
    [{ fast: 0 }, /params\.fast expected integer to be greater or equal to 1 \(got 0\)/],
    [{ speed: 3 }, /params\.speed is not a parameter of "ma-crossover"/],
    [{ fast: 40, slow: 30 }, /params\.fast must be below params\.slow/],
    [{ mode: "sideways" }, /params\.mode/],
    ["fast", /params must be an object/],
  ];
  for (const [params, message] of cases) {
    it(`refuses ${JSON.stringify(params)}`, () => {
      assert.throws(
        () => prepareSlot(ma, { id: "trend", params }, 'strategy "trend" (spec.strategies[1])'),
        (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && message.test(e.message),
      );
    });
  }
  it("refuses an unknown feature naming it", () => {
    const def = defineStrategy({
      name: "needs-vwap",
      description: "test",
      params: Type.Object({}),
      features: () => ({ v: feature("vwap") }),
      create: () => ({ onTick: () => false }),
    }) as unknown as StrategyDefinition;
    assert.throws(
      () => prepareSlot(def, { id: "v" }),
      (e: unknown) => isTradepipeError(e) && /feature "v": unknown feature "vwap"/.test(e.message),
    );
  });
});

describe("aggregation", () => {
  const one = (quote = 0) => ({
    symbol: "X",
    timeNs: T0 + BigInt(quote),
    bidPrice: 99.99 + quote * 0.01,
    bidSize: 100,
    askPrice: 100.01 + quote * 0.01,
    askSize: 100,
  });
  const run = (configs: [StrategyDefinition, Partial<StrategyConfig>][], minConfidence = 0) =>
    replayStrategies(
      configs.map(([d, c], i) => prepareSlot(d, { id: `s${i}`, ...c })),
      { minConfidence, defaultQty: 10 },
      [one()],
    );

  it("a weighted vote: net of weight × direction × strength over the voters' weight", () => {
    const r = run([
      [constant(1, 0.9), { weight: 3 }],
      [constant(-1, 0.6), { weight: 1 }],
      [constant(0, 0), { weight: 5 }],
    ]);
    assert.equal(r.signals.length, 1);
    assert.equal(r.signals[0]!.direction, 1);
    assert.ok(Math.abs(r.signals[0]!.confidence - (3 * 0.9 - 0.6) / 4) < 1e-12);
    assert.equal(r.signals[0]!.strategyId, "s0");
  });
  it("opposing equal votes tie; below minConfidence holds", () => {
    assert.deepEqual(
      run([
        [constant(1, 0.5), {}],
        [constant(-1, 0.5), {}],
      ]).holds,
      { tie: 1 },
    );
    assert.deepEqual(
      run(
        [
          [constant(1, 0.9), {}],
          [constant(-1, 0.5), {}],
        ],
        0.5,
      ).holds,
      { "low-confidence": 1 },
    );
  });
  it("a veto strategy blocks the opposite direction and never votes", () => {
    const vetoed = run([
      [constant(1, 0.9), {}],
      [constant(-1, 0.1), { role: "veto" }],
    ]);
    assert.deepEqual(vetoed.holds, { vetoed: 1 });
    const agreeing = run([
      [constant(1, 0.9), {}],
      [constant(1, 0.1), { role: "veto" }],
    ]);
    assert.equal(agreeing.signals[0]!.confidence, 0.9, "the veto's strength is not a vote");
  });
  it("a cool-down holds a symbol's signals for that long in event time after its last one", () => {
    const SECOND = 1_000_000_000n;
    const at = (symbol: string, seconds: bigint, nanos = 0n) => ({
      ...one(),
      symbol,
      timeNs: T0 + seconds * SECOND + nanos,
    });
    const quotes = [
      at("X", 0n), // signal: the first of X
      at("Y", 1n), // signal: Y has its own cool-down
      at("X", 10n), // held
      at("X", 29n, SECOND - 1n), // held: one nanosecond short of 30 s
      at("X", 30n), // signal: 30 s after X's last, which starts the next cool-down
      at("X", 59n), // held
      at("Y", 31n), // signal
    ];
    const slots = [prepareSlot(constant(1, 0.8), { id: "always" })];
    const r = replayStrategies(slots, { ...RULES, signalCooldownNs: 30n * SECOND }, quotes);
    assert.deepEqual(
      r.signals.map((s) => `${s.symbol}@${(s.timeNs - T0) / SECOND}`),
      ["X@0", "Y@1", "X@30", "Y@31"],
    );
    assert.deepEqual(r.holds, { "cool-down": 3 });
    // No cool-down (0 or absent): every quote signals.
    assert.equal(replayStrategies(slots, RULES, quotes).signals.length, quotes.length);
  });
  it("a budget stops a strategy voting beyond its intended position", () => {
    const slots = [prepareSlot(constant(1, 0.8, 10), { id: "capped", budgetShares: 25 })];
    const r = replayStrategies(slots, RULES, [one(0), one(1), one(2), one(3)]);
    assert.equal(r.signals.length, 2, "10 + 10 fit in 25, a third 10 does not");
    assert.equal(r.signals[0]!.targetQty, 10);
    assert.deepEqual(r.holds, {}, "an over-budget strategy does not vote at all");
  });
});

describe("isolation", () => {
  const thrower = (after: number) =>
    defineStrategy({
      name: "thrower",
      description: "test",
      params: Type.Object({}),
      create: () => {
        let n = 0;
        return {
          onTick(_t, _f, out: Decision) {
            if (++n > after) throw new Error("index out of range");
            act(out, -1, 1, "sell");
            return false;
          },
        };
      },
    }) as unknown as StrategyDefinition;

  it("a strategy that throws is disabled and reported; the others keep trading", () => {
    const slots = [
      prepareSlot(thrower(2), { id: "broken" }),
      prepareSlot(constant(1, 0.7), { id: "steady" }),
    ];
    const engine = new StrategyEngine(slots, RULES);
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      engine.onQuote("X", T0 + BigInt(i), 100 + i, 1, 100.02 + i, 1);
      const o = engine.finish();
      outcomes.push(`${o.direction}:${o.reason}`);
      const failures = engine.takeFailures();
      if (i === 2) {
        assert.equal(failures.length, 1);
        assert.deepEqual(
          { ...failures[0], timeNs: undefined },
          {
            id: "broken",
            slot: 0,
            symbol: "X",
            timeNs: undefined,
            phase: "onTick",
            error: "index out of range",
          },
        );
      } else assert.equal(failures.length, 0);
    }
    assert.deepEqual(outcomes.slice(0, 2), ["-1:signal", "-1:signal"]);
    assert.deepEqual(outcomes.slice(2), Array(4).fill("1:signal"));
    assert.deepEqual(engine.enabled, [false, true]);
    assert.equal(engine.decisions[0]!.reason, "disabled");
    // A new symbol does not bring the disabled strategy back.
    engine.onQuote("Y", T0, 10, 1, 10.02, 1);
    assert.equal(engine.finish().direction, 1);
    assert.equal(engine.decisions[0]!.reason, "disabled");
  });
  it("a strategy whose create throws is disabled too", () => {
    const bad = defineStrategy({
      name: "bad-create",
      description: "test",
      params: Type.Object({}),
      create: () => {
        throw new Error("no state");
      },
    }) as unknown as StrategyDefinition;
    const r = replayStrategies(
      [prepareSlot(bad, { id: "bad" }), prepareSlot(constant(1, 1), { id: "ok" })],
      RULES,
      [{ symbol: "X", timeNs: T0, bidPrice: 1, bidSize: 1, askPrice: 1.02, askSize: 1 }],
    );
    assert.equal(r.signals.length, 1);
    assert.equal(r.failures[0]!.phase, "create");
  });
});

describe("a strategy's contract is checked on every tick", () => {
  const bad = (write: (out: Decision) => boolean) =>
    defineStrategy({
      name: "bad",
      description: "test",
      params: Type.Object({}),
      create: () => ({ onTick: (_t, _f, out) => write(out) }),
    }) as unknown as StrategyDefinition;
  const cases: [string, (out: Decision) => boolean, RegExp][] = [
    [
      "a NaN strength",
      (out) => {
        act(out, 1, Number.NaN, "x");
        return false;
      },
      /strength NaN/,
    ],
    [
      "a strength above 1",
      (out) => {
        act(out, 1, 1.5, "x");
        return false;
      },
      /strength 1\.5/,
    ],
    [
      "a direction of 2",
      (out) => {
        act(out, 2 as never, 1, "x");
        return false;
      },
      /direction 2/,
    ],
    [
      "a negative target",
      (out) => {
        act(out, 1, 1, "x");
        out.targetQty = -5;
        return false;
      },
      /targetQty -5/,
    ],
    ["a model request without a model", () => true, /asked for a model score without a model/],
  ];
  for (const [what, write, message] of cases) {
    it(`${what} disables the strategy, the others go on`, () => {
      const r = replayStrategies(
        [prepareSlot(bad(write), { id: "bad" }), prepareSlot(constant(-1, 0.5), { id: "ok" })],
        RULES,
        [
          { symbol: "X", timeNs: T0, bidPrice: 1, bidSize: 1, askPrice: 1.02, askSize: 1 },
          { symbol: "X", timeNs: T0 + 1n, bidPrice: 1, bidSize: 1, askPrice: 1.04, askSize: 1 },
        ],
      );
      assert.equal(r.failures.length, 1);
      assert.match(r.failures[0]!.error, message);
      assert.deepEqual(
        r.signals.map((s) => [s.direction, s.strategyId, s.confidence]),
        [
          [-1, "ok", 0.5],
          [-1, "ok", 0.5],
        ],
      );
    });
  }
});

describe("features", () => {
  it("two strategies declaring the same feature share one computer, updated once per tick", () => {
    const seen: number[][] = [[], []];
    const reader = (k: number) =>
      defineStrategy({
        name: "reader",
        description: "test",
        params: Type.Object({}),
        features: () => ({ s: feature("sma", { period: 3 }) }),
        create: () => ({
          onTick(_t, f, out) {
            seen[k]!.push(f.s);
            hold(out, "x");
            return false;
          },
        }),
      }) as unknown as StrategyDefinition;
    const engine = new StrategyEngine(
      [prepareSlot(reader(0), { id: "a" }), prepareSlot(reader(1), { id: "b" })],
      RULES,
    );
    for (const mid of [1, 2, 3, 3, 6]) engine.onQuote("X", T0, mid - 0.01, 1, mid + 0.01, 1);
    // The repeated mid is not a price change: the average does not advance.
    assert.deepEqual(
      seen[0]!.map((x) => Number(x.toFixed(9))),
      [Number.NaN, Number.NaN, 2, 2, 11 / 3].map((x) => Number(x.toFixed(9))),
    );
    assert.deepEqual(seen[0], seen[1]);
  });
});

describe("the feature library", () => {
  it("serves the signal-bridge's own indicators under their names", () => {
    const quotes = quotesOf("X", 9, 400);
    const seen: Record<string, number>[] = [];
    const reader = defineStrategy({
      name: "reader",
      description: "test",
      params: Type.Object({}),
      features: () => ({
        rsi: feature("rsi", { period: 14 }),
        hist: feature("macd_hist"),
        pctB: feature("bollinger_pct_b", { period: 20, stdDev: 2 }),
        width: feature("bollinger_bandwidth"),
        ema: feature("ema", { period: 5 }),
        spread: feature("spread_bps"),
        imbalance: feature("book_imbalance"),
      }),
      create: () => ({
        onTick(_t, f, out) {
          seen.push({ ...f });
          hold(out, "x");
          return false;
        },
      }),
    }) as unknown as StrategyDefinition;
    replayStrategies([prepareSlot(reader, { id: "r" })], RULES, quotes);
    const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    const features = new Float32Array(8);
    let checked = 0;
    quotes.forEach((q, i) => {
      sig.onTopOfBook(q);
      const f = seen[i]!;
      if (!sig.ready) return;
      sig.writeFeatures(features);
      assert.equal(f.rsi, sig.rsi.value);
      assert.equal(f.hist, sig.macd.histogram);
      assert.equal(f.pctB, sig.bollinger.percentB);
      assert.equal(f.width, sig.bollinger.bandwidth);
      assert.equal(Math.fround(f.spread!), features[6]);
      assert.equal(Math.fround(f.imbalance!), features[7]);
      assert.ok(Number.isFinite(f.ema));
      checked++;
    });
    assert.ok(checked > 300);
  });
});
