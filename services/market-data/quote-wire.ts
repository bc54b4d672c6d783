/**
 * quote-wire: a hand-written Protocol Buffers codec for the one message on every tick, `Quote`
 * (proto/tradepipe/v1/market_data.proto). The reflective codec of @bufbuild/protobuf costs a few
 * microseconds per encode and per decode, which is most of a fused hop; this one writes the same
 * bytes (a test compares them with `toBinary` over many values) into a reused buffer and reads
 * the fields a tick consumer needs into a reused object.
 *
 * Scope: the encoder writes what the market-data stage fills (header source, event time,
 * traceparent and origin time; symbol; bid/ask price and size). The decoder reads those, skips every other field,
 * and merges repeated header occurrences as protobuf does (the bus appends a second header with
 * its stamps).
 *
 * IMPORTANT: `encodeQuote` returns a view of a buffer reused by the next call; the bus copies it
 * when publishing, so publish it at once. `decodeQuote` fills and returns `out`.
 */
import type { Bus, BusMessage, Subscription } from "../core/bus/types.ts";
import {
  asBuffer,
  beginMessage,
  clearHeader,
  cursor,
  endMessage,
  ensureRoom,
  type HeaderFields,
  readHeaderInto,
  readLength,
  readVarint,
  skipField,
  writeHeaderBody,
  writeStringField,
} from "../core/messages/proto-wire.ts";

/** QuoteFields: the header (originTimeNs: when market-data read the feed frame) and the quote. */
export interface QuoteFields extends HeaderFields {
  symbol: string;
  bidPrice: string;
  bidSize: string;
  askPrice: string;
  askSize: string;
}

export function emptyQuoteFields(): QuoteFields {
  return {
    source: "",
    eventTimeNs: 0n,
    traceparent: "",
    originTimeNs: 0n,
    symbol: "",
    bidPrice: "",
    bidSize: "",
    askPrice: "",
    askSize: "",
  };
}

/** copyQuote: a copy for the in-process bus (BusMessage.value); `q` is reused by the next quote. */
export function copyQuote(q: QuoteFields): QuoteFields {
  return { ...q };
}

let buf = Buffer.allocUnsafe(512);

/** encodeQuote encodes `q` as a tradepipe.v1.Quote (see IMPORTANT above). */
export function encodeQuote(q: QuoteFields): Uint8Array {
  const max =
    64 +
    3 *
      (q.source.length +
        q.traceparent.length +
        q.symbol.length +
        q.bidPrice.length +
        q.bidSize.length +
        q.askPrice.length +
        q.askSize.length);
  buf = ensureRoom(buf, max);
  const b = buf;
  const header = beginMessage(b, 0, 0x0a); // field 1
  let p = endMessage(b, header, writeHeaderBody(b, header, q));
  p = writeStringField(b, p, 0x12, q.symbol);
  p = writeStringField(b, p, 0x1a, q.bidPrice);
  p = writeStringField(b, p, 0x22, q.bidSize);
  p = writeStringField(b, p, 0x2a, q.askPrice);
  p = writeStringField(b, p, 0x32, q.askSize);
  return b.subarray(0, p);
}

/** decodeQuote reads a tradepipe.v1.Quote into `out`; throws RangeError on malformed bytes. */
export function decodeQuote(bytes: Uint8Array, out: QuoteFields): QuoteFields {
  const b = asBuffer(bytes);
  clearHeader(out);
  out.symbol = "";
  out.bidPrice = "";
  out.bidSize = "";
  out.askPrice = "";
  out.askSize = "";
  const end = b.length;
  let p = 0;
  while (p < end) {
    const tag = readVarint(b, p, "quote");
    p = cursor.pos;
    const wire = tag & 7;
    if (wire !== 2) {
      p = skipField(b, p, wire, "quote");
      continue;
    }
    const e = readLength(b, p, end, "quote");
    const s = cursor.pos;
    switch (tag >>> 3) {
      case 1:
        readHeaderInto(b, s, e, out, "quote");
        break;
      case 2:
        out.symbol = b.toString("utf8", s, e);
        break;
      case 3:
        out.bidPrice = b.toString("utf8", s, e);
        break;
      case 4:
        out.bidSize = b.toString("utf8", s, e);
        break;
      case 5:
        out.askPrice = b.toString("utf8", s, e);
        break;
      case 6:
        out.askSize = b.toString("utf8", s, e);
        break;
    }
    p = e;
  }
  return out;
}

/**
 * readQuote: the quote of a delivered `md.quote` message: on the in-process bus the publisher's
 * own copy (BusMessage.value, published by market-data's MarketDataPublisher: no decode), else
 * the payload decoded into `out`. Throws RangeError on malformed bytes.
 */
export function readQuote(m: BusMessage, out: QuoteFields): QuoteFields {
  const published = m.value as QuoteFields | undefined;
  return published !== undefined ? published : decodeQuote(m.payload, out);
}

/**
 * subscribeQuotes delivers the quotes on topics matching `filters`, decoded by decodeQuote into
 * one reused QuoteFields, or the publisher's copy in-process (readQuote; valid until the handler
 * returns either way: copy what you keep). For every
 * md.quote consumer: in the fused pipeline each of them decodes every quote before the signal it
 * causes is delivered, so a cheap decode shortens the tick → order path. Undecodable frames go
 * to `onInvalid` and never throw into the bus.
 */
export function subscribeQuotes(
  bus: Bus,
  filters: readonly string[],
  handler: (quote: QuoteFields, message: BusMessage) => void,
  onInvalid: (err: Error, message: BusMessage) => void,
): Subscription {
  const fields = emptyQuoteFields();
  return bus.subscribe(filters, (m) => {
    let q: QuoteFields;
    try {
      q = readQuote(m, fields);
    } catch (err) {
      onInvalid(err as Error, m);
      return;
    }
    handler(q, m);
  });
}
