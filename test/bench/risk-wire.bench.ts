/**
 * The risk-manager's hot-path codecs (services/risk-manager/wire.ts) beside the reflective
 * @bufbuild/protobuf codec they replace, measured in the same run: reading a TradingSignal
 * (as the signal-bridge writes it, indicators included, with the bus's appended header) and
 * writing the OrderIntent of an approval.
 *
 *   npx node test/bench/risk-wire.bench.ts [--quick]
 *
 * Operations are timed in batches of 100 (the timer costs more than one op); percentiles are
 * over batch means.
 */
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  HeaderSchema,
  IntentDecision,
  OrderIntentSchema,
  OrderType,
  Side,
  SignalAction,
  TimeInForce,
  TradingSignalSchema,
} from "../../services/core/messages/index.ts";
import {
  decodeSignal,
  emptySignalFields,
  encodeIntent,
  type IntentFields,
} from "../../services/risk-manager/wire.ts";

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const BATCHES = values.quick ? 2_000 : 20_000;
const BATCH = 100;

const signal = Buffer.concat([
  toBinary(
    TradingSignalSchema,
    create(TradingSignalSchema, {
      header: create(HeaderSchema, {
        source: "signal-bridge",
        eventTimeNs: 1_772_461_800n * 10n ** 9n,
        originTimeNs: 1_772_461_800_000_123_456n,
      }),
      signalId: "AAPL-1772461800123456789",
      symbol: "AAPL",
      action: SignalAction.BUY,
      confidence: 0.71,
      indicators: {
        rsi_14: 28.4,
        macd_hist_12_26_9: 0.012,
        bollinger_pct_b_20: 0.03,
        bollinger_bandwidth_20: 0.021,
        model_score: 0.71,
        rule_votes: 2,
        rules: 3,
      },
      referencePrice: "187.255",
      model: "signal@0123456789ab",
    }),
  ),
  toBinary(
    TradingSignalSchema,
    create(TradingSignalSchema, {
      header: create(HeaderSchema, { sequence: 42n, publishTimeNs: 1n, publisherId: 9n }),
    }),
  ),
]);
const fields: IntentFields = {
  source: "risk-manager",
  eventTimeNs: 1_772_461_800n * 10n ** 9n,
  traceparent: "",
  originTimeNs: 1_772_461_800_000_123_456n,
  clientOrderId: "tp-local-6b1f0c2d9e8a7b6c5d4e3f2a1b0c9d8e",
  signalId: "AAPL-1772461800123456789",
  symbol: "AAPL",
  side: Side.BUY,
  qty: "10",
  orderType: OrderType.MARKET,
  limitPrice: "",
  stopPrice: "",
  timeInForce: TimeInForce.DAY,
  decision: IntentDecision.APPROVED,
  rejectCode: "",
  rejectReason: "",
  decisionPrice: "187.255",
  correlationId: "AAPL-1772461800123456789",
};

function measure(name: string, op: () => void): number {
  for (let i = 0; i < 20_000; i++) op(); // warm up
  const means: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) op();
    means.push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
  means.sort((x, y) => x - y);
  const q = (p: number) => means[Math.min(means.length - 1, Math.floor(means.length * p))]!;
  console.log(
    `${name.padEnd(48)} p50 ${q(0.5).toFixed(0).padStart(6)} ns  p99 ${q(0.99).toFixed(0).padStart(6)} ns`,
  );
  return q(0.5);
}

const out = emptySignalFields();
let sink = 0;
const reflectDecode = measure("TradingSignal read: fromBinary (baseline)", () => {
  sink += fromBinary(TradingSignalSchema, signal).symbol.length;
});
const wireDecode = measure("TradingSignal read: decodeSignal", () => {
  sink += decodeSignal(signal, out).symbol.length;
});
const reflectEncode = measure("OrderIntent write: create + toBinary (baseline)", () => {
  const { source, eventTimeNs, traceparent, originTimeNs, ...rest } = fields;
  sink += toBinary(
    OrderIntentSchema,
    create(OrderIntentSchema, {
      header: create(HeaderSchema, { source, eventTimeNs, traceparent, originTimeNs }),
      ...rest,
      side: Side.BUY,
      orderType: OrderType.MARKET,
      timeInForce: TimeInForce.DAY,
      decision: IntentDecision.APPROVED,
    }),
  ).length;
});
const wireEncode = measure("OrderIntent write: encodeIntent", () => {
  sink += encodeIntent(fields).length;
});
console.log(
  `speed-up at p50: read ×${(reflectDecode / wireDecode).toFixed(1)}, write ×${(reflectEncode / wireEncode).toFixed(1)} (sink ${sink % 7})`,
);
