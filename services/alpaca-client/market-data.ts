/**
 * Market-data events in one typed form for both the stream and the historical API.
 *
 * Alpaca sends prices and sizes as JSON/MessagePack numbers (doubles); they become exact `Fixed`
 * here, at the edge, so no float travels further into the product. Timestamps become epoch ns.
 */
import { type Fixed, fromDecimal } from "../core/money.ts";
import { toNs } from "./timestamps.ts";

export interface Trade {
  symbol: string;
  price: Fixed;
  size: Fixed;
  timestampNs: bigint;
  exchange: string;
  id: number;
  conditions: string[];
  tape: string;
}

export interface Quote {
  symbol: string;
  bidPrice: Fixed;
  bidSize: Fixed;
  bidExchange: string;
  askPrice: Fixed;
  askSize: Fixed;
  askExchange: string;
  timestampNs: bigint;
  conditions: string[];
  tape: string;
}

/** Bar is a minute (`b`), updated (`u`) or daily (`d`) bar, or a historical bar. */
export interface Bar {
  symbol: string;
  open: Fixed;
  high: Fixed;
  low: Fixed;
  close: Fixed;
  volume: Fixed;
  timestampNs: bigint;
  tradeCount: number;
  vwap: Fixed;
}

export interface BookLevel {
  price: Fixed;
  size: Fixed;
}

/**
 * OrderBook is one L2 depth message (`T:"o"`, after Alpaca's crypto order books): `reset` true
 * means a full snapshot replacing the book; otherwise levels are updates where size 0 deletes.
 */
export interface OrderBook {
  symbol: string;
  timestampNs: bigint;
  bids: BookLevel[];
  asks: BookLevel[];
  reset: boolean;
}

export interface TradingStatus {
  symbol: string;
  statusCode: string;
  statusMessage: string;
  reasonCode: string;
  reasonMessage: string;
  timestampNs: bigint;
}

/** WireRecord is one decoded market-data object (`T` plus short field names). */
export type WireRecord = Record<string, unknown>;

// 2^53 / 1e9: below this a double times 1e9 rounds to the exact nano.
const FAST_LIMIT = 9_000_000;

/** fixedFromWire converts a wire number (or decimal string) to Fixed without float drift. */
export function fixedFromWire(value: unknown): Fixed {
  if (typeof value === "number") {
    if (value > -FAST_LIMIT && value < FAST_LIMIT) return BigInt(Math.round(value * 1e9));
    return fromDecimal(value);
  }
  if (typeof value === "string" || typeof value === "bigint") return fromDecimal(value);
  return 0n;
}

const str = (v: unknown): string => (typeof v === "string" ? v : v == null ? "" : String(v));
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);

export function tradeFromWire(m: WireRecord, symbol = str(m.S)): Trade {
  return {
    symbol,
    price: fixedFromWire(m.p),
    size: fixedFromWire(m.s),
    timestampNs: toNs(m.t),
    exchange: str(m.x),
    id: typeof m.i === "number" ? m.i : Number(m.i ?? 0),
    conditions: strs(m.c),
    tape: str(m.z),
  };
}

export function quoteFromWire(m: WireRecord, symbol = str(m.S)): Quote {
  return {
    symbol,
    bidPrice: fixedFromWire(m.bp),
    bidSize: fixedFromWire(m.bs),
    bidExchange: str(m.bx),
    askPrice: fixedFromWire(m.ap),
    askSize: fixedFromWire(m.as),
    askExchange: str(m.ax),
    timestampNs: toNs(m.t),
    conditions: strs(m.c),
    tape: str(m.z),
  };
}

export function barFromWire(m: WireRecord, symbol = str(m.S)): Bar {
  return {
    symbol,
    open: fixedFromWire(m.o),
    high: fixedFromWire(m.h),
    low: fixedFromWire(m.l),
    close: fixedFromWire(m.c),
    volume: fixedFromWire(m.v),
    timestampNs: toNs(m.t),
    tradeCount: typeof m.n === "number" ? m.n : 0,
    vwap: fixedFromWire(m.vw),
  };
}

function levels(v: unknown): BookLevel[] {
  if (!Array.isArray(v)) return [];
  const out: BookLevel[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const l = v[i] as WireRecord;
    out[i] = { price: fixedFromWire(l.p), size: fixedFromWire(l.s) };
  }
  return out;
}

export function orderBookFromWire(m: WireRecord): OrderBook {
  return {
    symbol: str(m.S),
    timestampNs: toNs(m.t),
    bids: levels(m.b),
    asks: levels(m.a),
    reset: m.r === true,
  };
}

export function statusFromWire(m: WireRecord): TradingStatus {
  return {
    symbol: str(m.S),
    statusCode: str(m.sc),
    statusMessage: str(m.sm),
    reasonCode: str(m.rc),
    reasonMessage: str(m.rm),
    timestampNs: toNs(m.t),
  };
}
