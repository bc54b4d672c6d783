/**
 * Frame decoding and dispatch for the market-data stream, apart from the socket so it can be
 * measured and tested on its own. One frame (a JSON or MessagePack array) becomes synchronous
 * handler calls, one per record; control records (success, subscription, error) go to `control`.
 */
import { Decoder } from "@msgpack/msgpack";
import type { TradepipeError } from "../core/errors.ts";
import {
  type Bar,
  barFromWire,
  type OrderBook,
  orderBookFromWire,
  type Quote,
  quoteFromWire,
  statusFromWire,
  type Trade,
  type TradingStatus,
  tradeFromWire,
  type WireRecord,
} from "./market-data.ts";
import { streamError } from "./reconnecting-socket.ts";
import { nsExtensionCodec } from "./timestamps.ts";

export interface MarketDataRecordHandlers {
  /** onRecord sees every data record (`t` is a string in JSON mode, bigint ns in msgpack). */
  onRecord?(record: WireRecord): void;
  onTrade?(trade: Trade): void;
  onQuote?(quote: Quote): void;
  /** onBar: `kind` is "b" (minute), "u" (updated) or "d" (daily). */
  onBar?(bar: Bar, kind: "b" | "u" | "d"): void;
  onOrderBook?(book: OrderBook): void;
  onStatus?(status: TradingStatus): void;
  /** onError reports undecodable frames and bad records; the stream keeps going. */
  onError?(err: TradepipeError): void;
}

export type FrameDispatcher = (data: Buffer, isBinary: boolean) => void;

/**
 * createFrameDispatcher returns the per-frame function. MessagePack frames arrive binary, JSON
 * ones as text (a binary frame in JSON mode is parsed as JSON too).
 */
export function createFrameDispatcher(
  codec: "json" | "msgpack",
  h: MarketDataRecordHandlers,
  control: (record: WireRecord) => void,
): FrameDispatcher {
  const decoder =
    codec === "msgpack" ? new Decoder({ extensionCodec: nsExtensionCodec }) : undefined;

  const dispatch = (m: WireRecord): void => {
    switch (m.T) {
      case "q":
        h.onRecord?.(m);
        if (h.onQuote) h.onQuote(quoteFromWire(m));
        return;
      case "t":
        h.onRecord?.(m);
        if (h.onTrade) h.onTrade(tradeFromWire(m));
        return;
      case "o":
        h.onRecord?.(m);
        if (h.onOrderBook) h.onOrderBook(orderBookFromWire(m));
        return;
      case "b":
      case "u":
      case "d":
        h.onRecord?.(m);
        if (h.onBar) h.onBar(barFromWire(m), m.T);
        return;
      case "s":
        h.onRecord?.(m);
        if (h.onStatus) h.onStatus(statusFromWire(m));
        return;
      case "success":
      case "subscription":
      case "error":
        control(m);
        return;
      default:
        h.onRecord?.(m);
    }
  };

  return (data, isBinary) => {
    let frame: unknown;
    try {
      frame =
        decoder !== undefined && isBinary
          ? decoder.decode(data)
          : JSON.parse(data.toString("utf8"));
    } catch (err) {
      h.onError?.(streamError(`undecodable market-data frame: ${(err as Error).message}`, err));
      return;
    }
    if (!Array.isArray(frame)) {
      h.onError?.(streamError("market-data frame is not an array"));
      return;
    }
    for (let i = 0; i < frame.length; i++) {
      const m = frame[i] as WireRecord;
      try {
        dispatch(m);
      } catch (err) {
        h.onError?.(
          streamError(`bad market-data record ${String(m?.T)}: ${(err as Error).message}`, err),
        );
      }
    }
  };
}
