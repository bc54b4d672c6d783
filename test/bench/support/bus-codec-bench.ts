/**
 * In-process costs: protobuf encode+decode per message type, and the bus's own JavaScript work
 * per message (stamping a frame, reading it back, sequence check and dispatch).
 */
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { BusCore } from "../../../services/core/bus/core.ts";
import { InProcBus } from "../../../services/core/bus/inproc.ts";
import * as m from "../../../services/core/messages/index.ts";

const header = () =>
  m.newHeader("bench", 1_764_000_000_123_456_789n, { traceparent: m.newTraceparent() });

// biome-ignore lint/suspicious/noExplicitAny: a table of heterogenous schemas and their inits
const SAMPLES: Array<[string, DescMessage, MessageInitShape<any>]> = [
  [
    "Trade",
    m.TradeSchema,
    {
      header: header(),
      symbol: "AAPL",
      price: "187.25",
      size: "100",
      exchange: "V",
      tradeId: 123456789n,
      conditions: ["@"],
      tape: "C",
    },
  ],
  [
    "Quote",
    m.QuoteSchema,
    {
      header: header(),
      symbol: "AAPL",
      bidPrice: "187.24",
      bidSize: "300",
      askPrice: "187.26",
      askSize: "200",
      bidExchange: "Q",
      askExchange: "V",
      tape: "C",
    },
  ],
  [
    "BookSnapshot (10 levels)",
    m.BookSnapshotSchema,
    {
      header: header(),
      symbol: "AAPL",
      depth: 10,
      bookVersion: 42n,
      bids: Array.from({ length: 10 }, (_, i) => ({
        price: (187.24 - i / 100).toFixed(2),
        size: "100",
        orderCount: 3,
      })),
      asks: Array.from({ length: 10 }, (_, i) => ({
        price: (187.26 + i / 100).toFixed(2),
        size: "100",
        orderCount: 2,
      })),
    },
  ],
  [
    "BookDelta (2 changes)",
    m.BookDeltaSchema,
    {
      header: header(),
      symbol: "AAPL",
      bookVersion: 43n,
      changes: [
        { side: m.BookSide.BID, price: "187.24", size: "0" },
        { side: m.BookSide.ASK, price: "187.27", size: "500" },
      ],
    },
  ],
  [
    "TradingSignal",
    m.TradingSignalSchema,
    {
      header: header(),
      signalId: "sma-cross:AAPL:1764000000",
      symbol: "AAPL",
      action: m.SignalAction.BUY,
      confidence: 0.73,
      indicators: { rsi_14: 41.2, sma_20: 186.9, sma_50: 185.1 },
      referencePrice: "187.25",
    },
  ],
  [
    "OrderIntent",
    m.OrderIntentSchema,
    {
      header: header(),
      clientOrderId: "tp-default-sma-cross-AAPL-1764000000",
      signalId: "sma-cross:AAPL:1764000000",
      symbol: "AAPL",
      side: m.Side.BUY,
      qty: "10",
      orderType: m.OrderType.LIMIT,
      limitPrice: "187.30",
      timeInForce: m.TimeInForce.DAY,
      decision: m.IntentDecision.APPROVED,
    },
  ],
  [
    "OrderUpdate (fill)",
    m.OrderUpdateSchema,
    {
      header: header(),
      clientOrderId: "tp-default-sma-cross-AAPL-1764000000",
      brokerOrderId: "61e69015-8549-4bfd-b9c3-01e75843f47d",
      symbol: "AAPL",
      side: m.Side.BUY,
      event: m.OrderEvent.FILL,
      fillPrice: "187.28",
      fillQty: "10",
      filledQty: "10",
      filledAvgPrice: "187.28",
      qty: "10",
      positionQty: "10",
    },
  ],
  [
    "PositionUpdate",
    m.PositionUpdateSchema,
    {
      header: header(),
      symbol: "AAPL",
      qty: "10",
      avgCost: "187.28",
      marketPrice: "187.30",
      marketValue: "1873.00",
      realizedPnl: "0",
      unrealizedPnl: "0.20",
      sector: "Technology",
    },
  ],
  [
    "RiskState",
    m.RiskStateSchema,
    {
      header: header(),
      circuitBreaker: m.CircuitBreakerState.CLOSED,
      dailyPnl: "-120.50",
      valueAtRisk: "3120.00",
      openPositions: 3,
      rejectsToday: 2n,
    },
  ],
  [
    "Control",
    m.ControlSchema,
    {
      header: header(),
      command: m.ControlCommand.HALT,
      requestedBy: "ops",
      reason: "exchange halt",
    },
  ],
];

function timeNsPerOp(iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(iterations, 20_000); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

export interface CodecRow {
  type: string;
  bytes: number;
  encodeNs: number;
  decodeNs: number;
}

export function benchCodecs(iterations: number): CodecRow[] {
  return SAMPLES.map(([type, schema, init]) => {
    const message = create(schema, init);
    const bytes = toBinary(schema, message);
    return {
      type,
      bytes: bytes.length,
      encodeNs: timeNsPerOp(iterations, () => toBinary(schema, message)),
      decodeNs: timeNsPerOp(iterations, () => fromBinary(schema, bytes)),
    };
  });
}

export interface BusCpuRow {
  what: string;
  ns: number;
}

/** benchBusCpu measures the bus's JavaScript per message, without any transport. */
export function benchBusCpu(iterations: number): BusCpuRow[] {
  const payload = new Uint8Array(64);
  const publisher = new BusCore({});
  const subscriber = new BusCore({});
  let seen = 0;
  subscriber.subscribe(["bench.*"], () => {
    seen++;
  });
  const frame = publisher.stamp("bench.ping", payload).frame;
  const sequenceAt = frame.length - 26;
  let sequence = 0;
  const inproc = new InProcBus();
  inproc.subscribe(["bench.*"], () => {
    seen++;
  });
  const rows = [
    {
      what: "stamp a frame (publish side)",
      ns: timeNsPerOp(iterations, () => publisher.stamp("bench.ping", payload)),
    },
    {
      what: "read, sequence-check and dispatch a frame (subscribe side)",
      ns: timeNsPerOp(iterations, () => {
        // Each frame must carry the next sequence, or the subscriber drops it as stale.
        frame.writeUInt32LE(++sequence, sequenceAt);
        subscriber.receive(frame);
      }),
    },
    {
      what: "InProcBus publish → handler",
      ns: timeNsPerOp(iterations, () => inproc.publish("bench.ping", payload)),
    },
  ];
  if (seen === 0) throw new Error("bench handlers never ran");
  return rows;
}
