import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { InProcBus } from "../core/bus/index.ts";
import { HeaderSchema, QuoteSchema } from "../core/messages/index.ts";
import { newTraceparent } from "../core/messages/trace.ts";
import { ONE } from "../core/money.ts";
import type { L1Quote } from "./core/l1-quote.ts";
import { MarketDataPublisher } from "./publisher.ts";
import {
  decodeQuote,
  emptyQuoteFields,
  encodeQuote,
  type QuoteFields,
  subscribeQuotes,
} from "./quote-wire.ts";

function reference(q: QuoteFields) {
  return create(QuoteSchema, {
    header: create(HeaderSchema, {
      source: q.source,
      eventTimeNs: q.eventTimeNs,
      traceparent: q.traceparent,
      originTimeNs: q.originTimeNs,
    }),
    symbol: q.symbol,
    bidPrice: q.bidPrice,
    bidSize: q.bidSize,
    askPrice: q.askPrice,
    askSize: q.askSize,
  });
}

function cases(): QuoteFields[] {
  const out: QuoteFields[] = [];
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 500; i++) {
    const price = (rnd() * 5000).toFixed(Math.floor(rnd() * 10));
    out.push({
      source: i % 7 === 0 ? "" : "market-data",
      eventTimeNs: i % 11 === 0 ? 0n : 1_767_000_000_000_000_000n + BigInt(i) * 999_999n,
      traceparent: i % 3 === 0 ? newTraceparent() : "",
      originTimeNs: i % 4 === 0 ? 0n : 1_767_000_000_123_000_000n + BigInt(i) * 7_777n,
      symbol: ["AAPL", "BRK.B", "X", "Ü-TEST", "A".repeat(200)][i % 5]!,
      bidPrice: price,
      bidSize: i % 13 === 0 ? "" : String(Math.floor(rnd() * 1e6)),
      askPrice: (Number(price) + 0.01).toString(),
      askSize: "1".repeat(1 + (i % 150)),
    });
  }
  return out;
}

test("encodeQuote writes exactly the bytes of @bufbuild/protobuf's toBinary", () => {
  for (const q of cases()) {
    assert.deepEqual(Buffer.from(encodeQuote(q)), Buffer.from(toBinary(QuoteSchema, reference(q))));
  }
});

test("decodeQuote reads what toBinary wrote, and the stamps the bus appends", () => {
  const bus = new InProcBus();
  const got: QuoteFields[] = [];
  bus.subscribe(["md.quote/*"], (m) => got.push({ ...decodeQuote(m.payload, emptyQuoteFields()) }));
  const all = cases();
  for (const q of all) bus.publish("md.quote/X", toBinary(QuoteSchema, reference(q)));
  assert.equal(got.length, all.length);
  for (let i = 0; i < all.length; i++) assert.deepEqual(got[i], all[i]);
});

test("decodeQuote skips fields it does not read and refuses truncated bytes", () => {
  const full = create(QuoteSchema, {
    header: create(HeaderSchema, { source: "sim", sequence: 5n, publisherId: 9n }),
    symbol: "MSFT",
    bidPrice: "1",
    askPrice: "2",
    bidExchange: "V",
    conditions: ["R", "Z"],
    tape: "C",
  });
  const bytes = toBinary(QuoteSchema, full);
  const q = decodeQuote(bytes, emptyQuoteFields());
  assert.deepEqual([q.source, q.symbol, q.bidPrice, q.askPrice], ["sim", "MSFT", "1", "2"]);
  assert.deepEqual(fromBinary(QuoteSchema, bytes).conditions, ["R", "Z"]);
  assert.throws(
    () => decodeQuote(bytes.subarray(0, bytes.length - 1), emptyQuoteFields()),
    RangeError,
  );
});

test("subscribeQuotes hands decoded quotes to the handler and bad frames to onInvalid", () => {
  const bus = new InProcBus();
  const got: string[] = [];
  const bad: string[] = [];
  subscribeQuotes(
    bus,
    ["md.quote/*"],
    (q, m) => got.push(`${m.topic} ${q.symbol} ${q.bidPrice}`),
    (err, m) => bad.push(`${m.topic} ${err.message}`),
  );
  bus.publish(
    "md.quote/AAPL",
    encodeQuote({ ...emptyQuoteFields(), symbol: "AAPL", bidPrice: "1.5" }),
  );
  bus.publish("md.quote/AAPL", Uint8Array.of(0x12, 0x7f, 0x41));
  assert.deepEqual(got, ["md.quote/AAPL AAPL 1.5"]);
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /^md\.quote\/AAPL quote: field runs past the end/);
});

test("in-process, subscribeQuotes hands over the publisher's copy and decodes nothing", () => {
  const bus = new InProcBus();
  const got: QuoteFields[] = [];
  subscribeQuotes(bus, ["md.quote/*"], (q) => got.push(q), assert.fail);
  const published = { ...emptyQuoteFields(), symbol: "AAPL", bidPrice: "1.5", askPrice: "1.6" };
  // The bytes say otherwise: the copy (BusMessage.value) is what the handler sees.
  bus.publish("md.quote/AAPL", encodeQuote({ ...published, bidPrice: "9" }), published);
  assert.equal(got.length, 1);
  assert.equal(got[0], published);
  // Without a value (another transport's frame) the bytes are decoded.
  bus.publish("md.quote/AAPL", encodeQuote({ ...published, bidPrice: "9" }));
  assert.equal(got[1]!.bidPrice, "9");
});

test("MarketDataPublisher publishes each quote with a copy that equals its bytes", () => {
  const bus = new InProcBus();
  const seen: Array<{ value: unknown; decoded: QuoteFields }> = [];
  bus.subscribe(["md.quote/*"], (m) =>
    seen.push({ value: m.value, decoded: { ...decodeQuote(m.payload, emptyQuoteFields()) } }),
  );
  const publisher = new MarketDataPublisher(bus, { tracing: true, snapshotDepth: 5 });
  const quote = (bid: bigint, ask: bigint) =>
    ({
      symbol: "AAPL",
      bidPrice: bid,
      bidSize: 100n * ONE,
      askPrice: ask,
      askSize: 200n * ONE,
    }) as unknown as L1Quote;
  publisher.quote(quote(15n * ONE, 16n * ONE), 5n, 7n);
  publisher.quote(quote(15n * ONE + 1n, 16n * ONE), 6n, 8n);
  assert.equal(seen.length, 2);
  for (const s of seen) assert.deepEqual(s.value, s.decoded);
  // Each message has its own copy: the second quote did not change the first one's.
  assert.notEqual(seen[0]!.value, seen[1]!.value);
  assert.equal((seen[0]!.value as QuoteFields).eventTimeNs, 5n);
});
