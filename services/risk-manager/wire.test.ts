import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { InProcBus } from "../core/bus/index.ts";
import {
  HeaderSchema,
  type IntentDecision,
  OrderIntentSchema,
  type OrderType,
  type Side,
  type SignalAction,
  type TimeInForce,
  TradingSignalSchema,
} from "../core/messages/index.ts";
import { mulberry32 } from "../core/random.ts";
import {
  decodeIntent,
  decodeSignal,
  emptyIntentFields,
  emptySignalFields,
  encodeIntent,
  type IntentFields,
  readIntent,
  readSignal,
} from "./wire.ts";

const ALPHABET = ["a", "Z", "0", "9", ".", "-", ":", " ", "é", "€", "😀"];

function text(r: () => number, maxLen: number): string {
  const n = r() < 0.2 ? 0 : Math.floor(r() * maxLen);
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)]!;
  return s;
}

function randomIntent(r: () => number): IntentFields {
  return {
    source: text(r, 20),
    eventTimeNs: r() < 0.2 ? 0n : BigInt(Math.floor(r() * 2 ** 52)) * 1000n,
    traceparent: r() < 0.5 ? "" : "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    originTimeNs: r() < 0.3 ? 0n : BigInt(Math.floor(r() * 2 ** 52)) * 1000n + 7n,
    clientOrderId: text(r, 48),
    signalId: text(r, 40),
    symbol: text(r, 6),
    side: Math.floor(r() * 3),
    qty: text(r, 12),
    orderType: Math.floor(r() * 5),
    limitPrice: text(r, 10),
    stopPrice: text(r, 10),
    timeInForce: Math.floor(r() * 5),
    decision: Math.floor(r() * 3),
    rejectCode: text(r, 20),
    // Long enough, sometimes, to need a two-byte length.
    rejectReason: text(r, 200),
    decisionPrice: text(r, 12),
    correlationId: text(r, 40),
  };
}

test("encodeIntent writes the same bytes as toBinary", () => {
  const r = mulberry32(11);
  for (let i = 0; i < 2000; i++) {
    const f = randomIntent(r);
    const { source, eventTimeNs, traceparent, originTimeNs, ...rest } = f;
    const want = toBinary(
      OrderIntentSchema,
      create(OrderIntentSchema, {
        header: create(HeaderSchema, { source, eventTimeNs, traceparent, originTimeNs }),
        ...rest,
        side: rest.side as Side,
        orderType: rest.orderType as OrderType,
        timeInForce: rest.timeInForce as TimeInForce,
        decision: rest.decision as IntentDecision,
      }),
    );
    assert.deepEqual(Buffer.from(encodeIntent(f)), Buffer.from(want), `case ${i}`);
  }
});

test("encodeIntent handles a header longer than 127 bytes", () => {
  const f = { ...emptyIntentFields(), source: "s".repeat(300), symbol: "AAPL", qty: "10" };
  const want = toBinary(
    OrderIntentSchema,
    create(OrderIntentSchema, {
      header: create(HeaderSchema, { source: f.source }),
      symbol: "AAPL",
      qty: "10",
    }),
  );
  assert.deepEqual(Buffer.from(encodeIntent(f)), Buffer.from(want));
});

test("decodeSignal reads what fromBinary reads, with the bus's appended header merged", () => {
  const r = mulberry32(5);
  const out = emptySignalFields();
  for (let i = 0; i < 2000; i++) {
    const msg = create(TradingSignalSchema, {
      header: create(HeaderSchema, {
        source: text(r, 20),
        eventTimeNs: BigInt(Math.floor(r() * 2 ** 52)),
        traceparent: r() < 0.5 ? "" : "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        originTimeNs: r() < 0.3 ? 0n : BigInt(Math.floor(r() * 2 ** 52)) * 1000n + 3n,
      }),
      signalId: text(r, 40),
      symbol: text(r, 6),
      action: Math.floor(r() * 4) as SignalAction,
      confidence: r(),
      indicators: { rsi_14: r() * 100, macd: -r(), rules: 3 },
      referencePrice: text(r, 12),
      model: text(r, 30),
      quantity: text(r, 6),
      limitPrice: text(r, 10),
    });
    // The bus stamps sequence, publish time and publisher id in a second header occurrence.
    const stamp = toBinary(
      TradingSignalSchema,
      create(TradingSignalSchema, {
        header: create(HeaderSchema, { sequence: 7n, publishTimeNs: 99n, publisherId: 3n }),
      }),
    );
    const bytes = Buffer.concat([toBinary(TradingSignalSchema, msg), stamp]);
    const want = fromBinary(TradingSignalSchema, bytes);
    decodeSignal(bytes, out);
    assert.deepEqual(
      out,
      {
        source: want.header?.source,
        eventTimeNs: want.header?.eventTimeNs,
        traceparent: want.header?.traceparent,
        originTimeNs: want.header?.originTimeNs,
        signalId: want.signalId,
        symbol: want.symbol,
        action: want.action,
        referencePrice: want.referencePrice,
        quantity: want.quantity,
        limitPrice: want.limitPrice,
      },
      `case ${i}`,
    );
  }
});

test("decodeSignal refuses truncated bytes", () => {
  const bytes = toBinary(
    TradingSignalSchema,
    create(TradingSignalSchema, { signalId: "AAPL-1", symbol: "AAPL", referencePrice: "1.5" }),
  );
  assert.throws(
    () => decodeSignal(bytes.subarray(0, bytes.length - 2), emptySignalFields()),
    RangeError,
  );
});

test("decodeIntent reads back every field encodeIntent and toBinary write, header merged", () => {
  const r = mulberry32(23);
  const out = emptyIntentFields();
  // The bus stamps sequence, publish time and publisher id in a second header occurrence.
  const stamp = toBinary(
    OrderIntentSchema,
    create(OrderIntentSchema, {
      header: create(HeaderSchema, { sequence: 7n, publishTimeNs: 99n, publisherId: 3n }),
    }),
  );
  for (let i = 0; i < 2000; i++) {
    const f = randomIntent(r);
    const bytes = Buffer.concat([encodeIntent(f), stamp]);
    const want = fromBinary(OrderIntentSchema, bytes);
    decodeIntent(bytes, out);
    assert.deepEqual(out, f, `case ${i}`);
    assert.deepEqual(
      [out.clientOrderId, out.side, out.decision, out.originTimeNs, out.traceparent],
      [
        want.clientOrderId,
        want.side,
        want.decision,
        want.header?.originTimeNs,
        want.header?.traceparent,
      ],
    );
  }
});

test("decodeIntent skips fields it does not know and refuses truncated bytes", () => {
  const known = encodeIntent({ ...emptyIntentFields(), signalId: "AAPL-1", symbol: "AAPL" });
  // field 99, a varint: a newer producer's field.
  const withUnknown = Buffer.concat([known, Buffer.from([0x98, 0x06, 0x05])]);
  assert.equal(decodeIntent(withUnknown, emptyIntentFields()).symbol, "AAPL");
  assert.throws(
    () => decodeIntent(known.subarray(0, known.length - 2), emptyIntentFields()),
    RangeError,
  );
});

test("readSignal and readIntent take the publisher's copy in-process, else decode the bytes", () => {
  const bus = new InProcBus();
  const got: unknown[] = [];
  bus.subscribe(["signal/*"], (m) => got.push({ ...readSignal(m, emptySignalFields()) }));
  bus.subscribe(["order.intent/*"], (m) => got.push({ ...readIntent(m, emptyIntentFields()) }));
  const intent = { ...emptyIntentFields(), signalId: "AAPL-1", symbol: "AAPL", qty: "10" };
  // The copy wins over the bytes (which say otherwise here) …
  bus.publish("order.intent/AAPL", encodeIntent({ ...intent, qty: "99" }), intent);
  // … and without one the bytes are read.
  bus.publish("order.intent/AAPL", encodeIntent({ ...intent, qty: "99" }));
  const signalBytes = toBinary(
    TradingSignalSchema,
    create(TradingSignalSchema, { signalId: "AAPL-2", symbol: "AAPL", referencePrice: "1.5" }),
  );
  const signal = { ...emptySignalFields(), signalId: "AAPL-3", symbol: "AAPL" };
  bus.publish("signal/AAPL", signalBytes, signal);
  bus.publish("signal/AAPL", signalBytes);
  assert.deepEqual(
    got.map((f) => [(f as IntentFields).signalId, (f as { qty?: string }).qty]),
    [
      ["AAPL-1", "10"],
      ["AAPL-1", "99"],
      ["AAPL-3", undefined],
      ["AAPL-2", undefined],
    ],
  );
});
