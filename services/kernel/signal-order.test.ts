/**
 * A strategy's own quantity and limit price reach the order in the kernel exactly as through the
 * live stages: the kernel proposes from the same decimal strings the signal-bridge publishes,
 * and the risk-manager shell's decode of the published signal proposes the same order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BacktestEngine } from "../backtest/engine.ts";
import { syntheticBatches } from "../backtest/synthetic.ts";
import { T0, testConfig, testPipeline } from "../backtest/test-support.ts";
import { SignalAction } from "../core/messages/index.ts";
import { fromDecimal, toDecimal } from "../core/money.ts";
import { clientOrderIdFor } from "../execution-engine/core/client-order-id.ts";
import { proposalFromSignal } from "../risk-manager/core/index.ts";
import { orderLimit } from "../risk-manager/core/limit-price.ts";
import { proposalOfFields } from "../risk-manager/messages.ts";
import { decodeSignal, emptySignalFields } from "../risk-manager/wire.ts";
import { encodeSignal } from "../signal-bridge/signal-wire.ts";
import { kernelSetupOf } from "./config.ts";

const symbols = { AAPL: 190, MSFT: 410 };

test("a signal's quantity and limit price become the order's, on the tick and within the guard", async () => {
  const pipeline = testPipeline(Object.keys(symbols));
  pipeline.spec.strategies = [
    {
      id: "sized",
      module: "services/kernel/testdata/sized-limit-strategy.ts",
      // 1.5 USD beyond the mid: beyond a 50 bps guard at AAPL's ~190, inside it at MSFT's ~410.
      params: { offset: 1.5 },
      weight: 1,
      role: "vote",
      budgetShares: 0,
    },
  ];
  const cfg = await testConfig(Object.keys(symbols));
  const setup = await kernelSetupOf(pipeline, new Map());
  const engine = new BacktestEngine({ ...cfg, kernel: setup.config, score: setup.score });
  for (const b of syntheticBatches({ symbols, seed: 5, startNs: T0, durationNs: 600_000_000_000n }))
    engine.push(b);
  const result = engine.finish();
  assert.ok(result.signals.length > 4, `signals: ${result.signals.length}`);
  const bySignal = new Map(
    result.signals.map((s) => [clientOrderIdFor(setup.config.risk.pipelineName, s.signalId), s]),
  );
  const guard = fromDecimal(pipeline.spec.execution.maxSlippageBps);
  let capped = 0;
  assert.ok(result.intents.length > 0, "orders were sent");
  for (const { request: r } of result.intents) {
    const s = bySignal.get(r.clientOrderId)!;
    assert.equal(s.quantity, "7");
    assert.equal(r.qty, fromDecimal(7), r.clientOrderId);
    assert.equal(r.orderType, "limit");
    const asked = fromDecimal(s.limitPrice);
    const want = orderLimit(r.side, asked, s.referencePrice, guard);
    assert.equal(toDecimal(r.limitPrice!), toDecimal(want), r.clientOrderId);
    assert.equal(r.limitPrice! % 10_000_000n, 0n, "on the cent");
    // Never beyond the guard: reference ± maxSlippageBps.
    const bound = (s.referencePrice * guard) / 10_000n / 1_000_000_000n;
    if (r.side === "buy") assert.ok(r.limitPrice! <= s.referencePrice + bound, r.clientOrderId);
    else assert.ok(r.limitPrice! >= s.referencePrice - bound, r.clientOrderId);
    const cent = 10_000_000n;
    if (r.side === "buy" ? want < asked - cent : want > asked + cent) capped++;
  }
  assert.ok(capped > 0, "some limits were capped by the guard");
  assert.ok(capped < result.intents.length, "some were inside it");

  // The live path: the signal-bridge publishes the same strings; the risk-manager shell decodes
  // them and proposes the same order as the kernel did.
  const fields = emptySignalFields();
  for (const s of result.signals.slice(0, 10)) {
    const bytes = encodeSignal({
      source: "signal-bridge",
      eventTimeNs: s.eventTimeNs,
      traceparent: "",
      originTimeNs: 0n,
      signalId: s.signalId,
      symbol: s.symbol,
      action: s.direction > 0 ? SignalAction.BUY : SignalAction.SELL,
      confidence: s.confidence,
      indicatorNames: [],
      indicatorValues: new Float64Array(0),
      referencePrice: toDecimal(s.referencePrice),
      model: "",
      strategyId: s.strategyId,
      quantity: s.quantity,
      limitPrice: s.limitPrice,
    });
    const live = proposalOfFields(decodeSignal(bytes, fields), setup.config.orderQty);
    const kernel = proposalFromSignal(
      {
        signalId: s.signalId,
        symbol: s.symbol,
        action: s.direction > 0 ? "buy" : "sell",
        referencePrice: s.referencePrice,
        quantity: s.quantity,
        limitPrice: s.limitPrice,
      },
      setup.config.orderQty,
      s.eventTimeNs,
      s.signalId,
    );
    assert.deepEqual(live, kernel, s.signalId);
  }
});
