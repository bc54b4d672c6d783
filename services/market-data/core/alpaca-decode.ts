/**
 * decodeAlpacaMarketData turns one element of an Alpaca market-data frame (already parsed from
 * JSON or MessagePack) into a core event: `o` order book (crypto), `q` quote, `t` trade.
 * Control and other message types give `undefined`; malformed data messages throw a
 * TP_ERR_INVALID_MESSAGE naming the field and the problem.
 *
 * Prices and sizes arrive as JSON numbers (or strings); they become exact Fixed values.
 */
import { TradepipeError } from "../../core/errors.ts";
import { type Fixed, fromDecimal } from "../../core/money.ts";
import type { MarketDataEvent, PriceLevel } from "./events.ts";

/** Below this magnitude, round(x * 1e9) of the nearest double recovers a 9-place decimal exactly. */
const FAST_PATH_LIMIT = 1e6;

/** fixedFromWire converts a feed number or decimal string to a Fixed without losing a digit. */
export function fixedFromWire(value: unknown, path: string): Fixed {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) invalid(path, `is not a finite number (${value})`);
    if (value > -FAST_PATH_LIMIT && value < FAST_PATH_LIMIT) {
      // The double nearest a decimal d with <= 9 places is within |d| * 2^-53 of it, so for
      // |d| < 1e6 the scaled error stays far below 0.5 and rounding gives d * 1e9 exactly.
      return BigInt(Math.round(value * 1e9));
    }
    // Above it a double cannot hold 9 places, and its exact binary digits are not what the feed
    // wrote (28509504.4 is 28509504.399999999...). JSON encoders write the shortest text that
    // reads back as the same double, so that text is the feed's decimal: parse it when it is
    // plain and within 9 places.
    const text = String(value);
    const dot = text.indexOf(".");
    if (!text.includes("e") && (dot < 0 || text.length - dot - 1 <= 9)) return fromDecimal(text);
    return fromDecimal(value);
  }
  if (typeof value === "string") {
    try {
      return fromDecimal(value);
    } catch {
      invalid(path, `is not a decimal (${JSON.stringify(value)})`);
    }
  }
  return invalid(path, `is missing or not a number (${typeof value})`);
}

export function decodeAlpacaMarketData(msg: unknown): MarketDataEvent | undefined {
  if (typeof msg !== "object" || msg === null) invalid("message", "is not an object");
  const m = msg as Record<string, unknown>;
  const kind = m["T"];
  if (kind !== "o" && kind !== "q" && kind !== "t") return undefined;
  const symbol = m["S"];
  if (typeof symbol !== "string" || symbol === "") invalid(`${kind}.S`, "is not a symbol");
  const where = `${kind}[${symbol}]`;
  const timeNs = timeFromWire(m["t"], `${where}.t`);
  if (kind === "o") {
    return {
      type: "book",
      symbol,
      seq: undefined,
      timeNs,
      reset: m["r"] === true,
      bids: levelsFromWire(m["b"], `${where}.b`),
      asks: levelsFromWire(m["a"], `${where}.a`),
    };
  }
  if (kind === "q") {
    return {
      type: "quote",
      symbol,
      timeNs,
      bidPrice: fixedFromWire(m["bp"], `${where}.bp`),
      bidSize: fixedFromWire(m["bs"], `${where}.bs`),
      askPrice: fixedFromWire(m["ap"], `${where}.ap`),
      askSize: fixedFromWire(m["as"], `${where}.as`),
    };
  }
  const id = m["i"];
  return {
    type: "trade",
    symbol,
    timeNs,
    price: fixedFromWire(m["p"], `${where}.p`),
    size: fixedFromWire(m["s"], `${where}.s`),
    tradeId: typeof id === "number" ? id : 0,
  };
}

function levelsFromWire(value: unknown, path: string): PriceLevel[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) invalid(path, "is not an array of {p,s} levels");
  const levels: PriceLevel[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const l = value[i] as Record<string, unknown> | null;
    if (typeof l !== "object" || l === null) invalid(`${path}[${i}]`, "is not a {p,s} level");
    const price = fixedFromWire(l["p"], `${path}[${i}].p`);
    const size = fixedFromWire(l["s"], `${path}[${i}].s`);
    if (price <= 0n) invalid(`${path}[${i}].p`, "must be positive");
    if (size < 0n) invalid(`${path}[${i}].s`, "must not be negative");
    levels[i] = { price, size };
  }
  return levels;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/**
 * timeFromWire reads an event time as nanoseconds since the epoch: an RFC-3339 string (JSON
 * mode), a MessagePack timestamp decoded as `{sec, nsec}`, or a bigint already in nanoseconds.
 */
export function timeFromWire(value: unknown, path: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "string") {
    const fast = fastUtcTime(value);
    if (fast >= 0n) return fast;
    const m = RFC3339.exec(value);
    if (!m) invalid(path, `is not an RFC-3339 time (${JSON.stringify(value)})`);
    const [, y, mo, d, h, mi, s, frac = "", zone] = m;
    const days = daysFromCivil(Number(y), Number(mo), Number(d));
    let seconds = days * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s);
    if (zone !== "Z" && zone !== "z") {
      const sign = zone!.startsWith("-") ? -1 : 1;
      seconds -= sign * (Number(zone!.slice(1, 3)) * 3600 + Number(zone!.slice(4, 6)) * 60);
    }
    return BigInt(seconds) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  }
  if (typeof value === "object" && value !== null) {
    const ts = value as { sec?: unknown; nsec?: unknown };
    if (typeof ts.sec === "number" && typeof ts.nsec === "number") {
      return BigInt(ts.sec) * 1_000_000_000n + BigInt(ts.nsec);
    }
  }
  return invalid(path, "is missing or not a time");
}

let cachedDate = "";
let cachedDateNs = 0n;

/**
 * fastUtcTime parses the form feeds send on every message, "YYYY-MM-DDTHH:MM:SS[.fffffffff]Z",
 * by character codes, caching the date part; it returns -1n for anything else (then the
 * general RFC-3339 parser decides).
 */
function fastUtcTime(v: string): bigint {
  const len = v.length;
  if (len < 20 || v.charCodeAt(len - 1) !== 90 /* Z */ || v.charCodeAt(10) !== 84 /* T */) {
    return -1n;
  }
  const date = v.slice(0, 10);
  if (date !== cachedDate) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    if (!m) return -1n;
    cachedDateNs =
      BigInt(daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]))) * 86_400_000_000_000n;
    cachedDate = date;
  }
  const h = digits2(v, 11);
  const mi = digits2(v, 14);
  const s = digits2(v, 17);
  if (h < 0 || mi < 0 || s < 0 || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58) return -1n;
  let nanos = 0;
  if (len > 20) {
    if (v.charCodeAt(19) !== 46 /* . */ || len > 30 || len === 21) return -1n;
    for (let i = 20; i < len - 1; i++) {
      const d = v.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return -1n;
      nanos = nanos * 10 + d;
    }
    nanos *= 10 ** (30 - len);
  }
  const secondsNs = (h * 3600 + mi * 60 + s) * 1e9 + nanos; // < 86400e9 < 2^53: exact
  return cachedDateNs + BigInt(secondsNs);
}

function digits2(v: string, at: number): number {
  const a = v.charCodeAt(at) - 48;
  const b = v.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date (era arithmetic). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function invalid(path: string, problem: string): never {
  throw new TradepipeError("TP_ERR_INVALID_MESSAGE", `${path} ${problem}`);
}
