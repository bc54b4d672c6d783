/**
 * The signal-bridge stage, started by the host as in production (real Postgres for its
 * leadership, InProcBus): quotes published on `md.quote/<SYM>` along seeded synthetic price
 * paths make it publish BUY and SELL TradingSignals of the right shape, and a second run over
 * the same quotes publishes exactly the same signals.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { decodeMessage, publishMessage } from "../../services/core/bus/typed.ts";
import {
  newHeader,
  newTraceparent,
  parseTraceparent,
  QuoteSchema,
  SignalAction,
  type TradingSignal,
  TradingSignalSchema,
} from "../../services/core/messages/index.ts";
import { decodeSignal, emptySignalFields } from "../../services/risk-manager/wire.ts";
import { syntheticMarket } from "../../services/signal-bridge/model/synthetic-market.ts";
import { type Harness, startHarness, waitFor } from "./stage-harness.ts";

const START_NS = 1_767_000_000_000_000_000n;
const TICKS = 1_500;

interface SentQuote {
  symbol: string;
  timeNs: bigint;
  /** The wall-clock read time market-data would stamp (header origin_time_ns). */
  originNs: bigint;
  bid: string;
  ask: string;
  traceparent?: string;
}

let h: Harness;
before(async () => {
  h = await startHarness({ sim: { symbols: ["AAPL", "MSFT"], clock: "manual" } });
});
after(() => h.close());

/** quotePath interleaves two symbols' seeded paths, one quote per millisecond. */
function quotePath(): SentQuote[] {
  const paths = {
    AAPL: syntheticMarket({ seed: 21, ticks: TICKS, startPrice: 187 }),
    MSFT: syntheticMarket({ seed: 22, ticks: TICKS, startPrice: 410 }),
  };
  const out: SentQuote[] = [];
  for (let i = 0; i < TICKS; i++) {
    for (const symbol of ["AAPL", "MSFT"] as const) {
      const t = paths[symbol][i]!;
      out.push({
        symbol,
        timeNs: START_NS + BigInt(out.length) * 1_000_000n,
        originNs: START_NS + 777_000_000n + BigInt(out.length) * 1_234n,
        bid: t.bidPrice.toFixed(2),
        ask: t.askPrice.toFixed(2),
      });
    }
  }
  return out;
}

/** runOnce starts a fresh signal-bridge, drives the quotes through it and returns its signals. */
async function runOnce(quotes: readonly SentQuote[]): Promise<TradingSignal[]> {
  const seen = h.record(["signal/*"]);
  const instance = await h.start("signal-bridge");
  try {
    for (const q of quotes) {
      publishMessage(
        h.bus,
        `md.quote/${q.symbol}`,
        QuoteSchema,
        create(QuoteSchema, {
          header: newHeader("market-data", q.timeNs, {
            traceparent: q.traceparent ?? "",
            originTimeNs: q.originNs,
          }),
          symbol: q.symbol,
          bidPrice: q.bid,
          bidSize: "300",
          askPrice: q.ask,
          askSize: "200",
        }),
      );
      // Let the stage's asynchronous model path (if any) keep up, as a live feed would.
      if (q.timeNs % 64_000_000n === 0n) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
    await waitFor(() => seen.length > 0, "signals");
  } finally {
    await instance.stop();
  }
  // In-process the risk-manager reads the signal-bridge's own copy (BusMessage.value) instead of
  // the bytes: for every field it reads, the copy must say what the bytes say.
  for (const m of seen) {
    const fromBytes = decodeSignal(m.payload, emptySignalFields());
    const copy = m.value as Record<string, unknown>;
    assert.ok(copy !== undefined, `${m.topic}: published with its copy`);
    for (const [k, v] of Object.entries(fromBytes)) assert.equal(copy[k], v, `${m.topic} ${k}`);
  }
  return seen.map((m) => decodeMessage(m, TradingSignalSchema));
}

let firstRun: TradingSignal[] = [];
const quotes = quotePath();

test("trending and reverting quotes produce BUY and SELL signals of the right shape", async () => {
  firstRun = await runOnce(quotes);
  const actions = new Set(firstRun.map((s) => s.action));
  assert.ok(actions.has(SignalAction.BUY), "at least one BUY");
  assert.ok(actions.has(SignalAction.SELL), "at least one SELL");
  const byId = new Map(quotes.map((q) => [`${q.symbol}-${q.timeNs}`, q]));
  for (const s of firstRun) {
    const q = byId.get(s.signalId);
    assert.ok(q, `signal id ${s.signalId} names the quote that caused it`);
    assert.equal(s.symbol, q.symbol);
    assert.equal(s.header?.source, "signal-bridge");
    assert.equal(s.header?.eventTimeNs, q.timeNs, "event time carried from the quote");
    assert.equal(s.header?.originTimeNs, q.originNs, "origin (frame read time) carried too");
    assert.equal(s.header?.traceparent, "", "untraced quote, untraced signal");
    const mid = ((Number(q.bid) * 100 + Number(q.ask) * 100) / 200).toString();
    assert.equal(Number(s.referencePrice), Number(mid), "reference price is the quote's mid");
    assert.match(s.referencePrice, /^\d+(\.\d{1,3})?$/, "exact decimal");
    assert.ok(s.confidence >= h.pipeline.spec.strategy.minConfidence && s.confidence <= 1);
    assert.match(s.model, /^signal@[0-9a-f]{12}$/);
    assert.equal(s.strategyId, "rules-model", "the built-in strategy leads every signal");
    assert.equal(s.quantity, "", "no target: the pipeline's order quantity");
    for (const k of [
      "rsi_14",
      "macd_hist_12_26_9",
      "bollinger_pct_b_20",
      "bollinger_bandwidth_20",
      "model_score",
      "rule_votes",
    ]) {
      assert.ok(Number.isFinite(s.indicators[k]), `indicator ${k}`);
    }
    const score = s.indicators.model_score!;
    assert.ok(s.action === SignalAction.BUY ? score > 0.5 : score < 0.5, "model agrees");
    assert.ok(
      s.action === SignalAction.BUY ? s.indicators.rule_votes! > 0 : s.indicators.rule_votes! < 0,
      "rules point the same way",
    );
  }
});

test("a second run over the same quotes publishes the same signals", async () => {
  assert.ok(firstRun.length > 0);
  const secondRun = await runOnce(quotes);
  const essence = (s: TradingSignal) => ({
    id: s.signalId,
    action: s.action,
    confidence: s.confidence,
    price: s.referencePrice,
  });
  assert.deepEqual(secondRun.map(essence), firstRun.map(essence));
});

test("a traced quote's trace continues into the signal it causes", async () => {
  const traced = quotes.map((q) => ({ ...q, traceparent: newTraceparent() }));
  const byId = new Map(traced.map((q) => [`${q.symbol}-${q.timeNs}`, q]));
  const signals = await runOnce(traced);
  assert.ok(signals.length > 0);
  for (const s of signals) {
    const cause = parseTraceparent(byId.get(s.signalId)!.traceparent);
    const own = parseTraceparent(s.header?.traceparent ?? "");
    assert.ok(cause && own, "both are valid traceparents");
    assert.equal(own.traceId, cause.traceId, "same trace");
    assert.notEqual(own.spanId, cause.spanId, "a new span");
  }
});

test("a one-sided quote is not a tick: counted, and no signal comes of it", async () => {
  const count = async () =>
    (await h.metrics.registry.getSingleMetric("tradepipe_sb_one_sided_quotes_total")?.get())
      ?.values[0]?.value ?? 0;
  const before = await count();
  const oneSided = quotes.slice(0, 200).map((q, i) => ({ ...q, bid: i % 2 === 0 ? "0" : q.bid }));
  const seen = h.record(["signal/*"]);
  const instance = await h.start("signal-bridge");
  try {
    for (const q of oneSided.filter((_, i) => i % 2 === 0)) {
      publishMessage(
        h.bus,
        `md.quote/${q.symbol}`,
        QuoteSchema,
        create(QuoteSchema, {
          header: newHeader("market-data", q.timeNs),
          symbol: q.symbol,
          bidPrice: q.bid,
          askPrice: q.ask,
        }),
      );
    }
  } finally {
    await instance.stop();
  }
  assert.equal((await count()) - before, 100);
  assert.equal(seen.length, 0);
});
