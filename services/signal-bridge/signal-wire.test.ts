import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HeaderSchema, type SignalAction, TradingSignalSchema } from "../core/messages/index.ts";
import { newTraceparent } from "../core/messages/trace.ts";
import { encodeSignal, type SignalFields } from "./signal-wire.ts";

function reference(s: SignalFields) {
  const indicators: Record<string, number> = {};
  s.indicatorNames.forEach((n, i) => {
    indicators[n] = s.indicatorValues[i]!;
  });
  return create(TradingSignalSchema, {
    header: create(HeaderSchema, {
      source: s.source,
      eventTimeNs: s.eventTimeNs,
      traceparent: s.traceparent,
      originTimeNs: s.originTimeNs,
    }),
    signalId: s.signalId,
    symbol: s.symbol,
    action: s.action as SignalAction,
    confidence: s.confidence,
    indicators,
    referencePrice: s.referencePrice,
    model: s.model,
    strategyId: s.strategyId,
    quantity: s.quantity,
    limitPrice: s.limitPrice,
  });
}

function cases(): SignalFields[] {
  const out: SignalFields[] = [];
  let seed = 11;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const names = ["rsi_14", "macd_hist_12_26_9", "bollinger_pct_b_20", "model_score", "rules"];
  for (let i = 0; i < 400; i++) {
    const count = i % 6;
    const values = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      values[k] = [0, -0.5, 1e-300, Number.NaN, 71.25, -3e10][(i + k) % 6]! * (k + 1) + rnd();
    }
    out.push({
      source: i % 9 === 0 ? "" : "signal-bridge",
      eventTimeNs: i % 5 === 0 ? 0n : 1_767_000_000_000_000_000n + BigInt(i),
      traceparent: i % 2 === 0 ? newTraceparent() : "",
      originTimeNs: i % 3 === 1 ? 0n : 1_767_000_000_500_000_000n + BigInt(i) * 3_333n,
      signalId: `AAPL-${1_767_000_000_000_000_000n + BigInt(i)}${i % 4 === 0 ? "-2" : ""}`,
      symbol: i % 7 === 0 ? "X".repeat(150) : "AAPL",
      action: i % 4,
      confidence: i % 8 === 0 ? 0 : rnd(),
      indicatorNames: names.slice(0, count),
      indicatorValues: values,
      referencePrice: (rnd() * 1000).toFixed(i % 4),
      model: i % 3 === 0 ? "" : `signal@${"a".repeat(12)}`,
      strategyId: i % 5 === 1 ? "" : ["rules-model", "ma-crossover", "orb"][i % 3]!,
      quantity: i % 4 === 0 ? "" : String(i),
      limitPrice: i % 6 === 0 ? (rnd() * 100).toFixed(2) : "",
    });
  }
  // Zero and negative zero as map values: a map entry keeps its value even when it is 0.
  out.push({ ...out[5]!, indicatorValues: new Float64Array([0, -0, 0, 0, 0]).subarray(0, 5) });
  out.at(-1)!.indicatorNames = names;
  return out;
}

test("encodeSignal writes exactly the bytes of @bufbuild/protobuf's toBinary", () => {
  for (const s of cases()) {
    assert.deepEqual(
      Buffer.from(encodeSignal(s)),
      Buffer.from(toBinary(TradingSignalSchema, reference(s))),
    );
  }
});

test("what encodeSignal writes decodes to the same signal", () => {
  const s = cases()[13]!;
  const m = fromBinary(TradingSignalSchema, encodeSignal(s));
  assert.equal(m.signalId, s.signalId);
  assert.equal(m.header?.eventTimeNs, s.eventTimeNs);
  assert.deepEqual(Object.keys(m.indicators), s.indicatorNames);
  const withOrigin = cases()[14]!;
  assert.ok(withOrigin.originTimeNs > 0n);
  const decoded = fromBinary(TradingSignalSchema, encodeSignal(withOrigin));
  assert.equal(decoded.header?.originTimeNs, withOrigin.originTimeNs);
});
