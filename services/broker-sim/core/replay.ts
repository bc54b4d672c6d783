/**
 * replay: plays recorded market data instead of the synthetic model. The input is NDJSON in
 * Alpaca's message format — one object per line with `T` ("q" quote, "t" trade, "b" bar), `S`
 * (symbol), `t` (RFC-3339) and the usual fields (bp/bs/ap/as/bx/ax, p/s/x/i/c, o/h/l/c/v/n/vw).
 * Depth beyond the top of book is not recorded by Alpaca, so levels 2..N are synthesised from
 * the seed around each recorded quote.
 */
import { type Fixed, fromDecimal } from "../../core/money.ts";
import { bookDiff } from "./market.ts";
import { createPrng, type Prng } from "./prng.ts";
import { parseTime } from "./time.ts";
import type { BookLevel, MarketEvent } from "./types.ts";

export interface ReplayState {
  events: MarketEvent[];
  index: number;
  prng: Prng;
  depth: number;
  books: Map<string, { bids: BookLevel[]; asks: BookLevel[] }>;
}

const CENT: Fixed = 10_000_000n;

export interface ParsedRecording {
  events: MarketEvent[];
  errors: string[];
}

function num(v: unknown, path: string, errors: string[]): Fixed {
  if (typeof v === "number" || typeof v === "string") {
    try {
      return fromDecimal(v);
    } catch {
      // reported below
    }
  }
  errors.push(`${path}: expected a number, got ${JSON.stringify(v)}`);
  return 0n;
}

/** parseRecording turns NDJSON text into time-ordered events; bad lines are reported by line number. */
export function parseRecording(text: string): ParsedRecording {
  const events: MarketEvent[] = [];
  const errors: string[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `line ${i + 1}`;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      errors.push(`${where}: not valid JSON`);
      return;
    }
    if (typeof m !== "object" || m === null) {
      errors.push(`${where}: expected an object`);
      return;
    }
    const symbol = typeof m["S"] === "string" ? m["S"] : undefined;
    const t = typeof m["t"] === "string" ? parseTime(m["t"]) : undefined;
    if (!symbol || t === undefined) {
      errors.push(`${where}: needs "S" (symbol) and "t" (RFC-3339 time)`);
      return;
    }
    const before = errors.length;
    const size = (k: string): number => Number(num(m[k], `${where}.${k}`, errors) / 1_000_000_000n);
    const conds = Array.isArray(m["c"]) ? (m["c"] as unknown[]).map(String) : [];
    let e: MarketEvent | undefined;
    switch (m["T"]) {
      case "q":
        e = {
          kind: "quote",
          quote: {
            symbol,
            t,
            bidPrice: num(m["bp"], `${where}.bp`, errors),
            bidSize: size("bs"),
            bidExchange: String(m["bx"] ?? ""),
            askPrice: num(m["ap"], `${where}.ap`, errors),
            askSize: size("as"),
            askExchange: String(m["ax"] ?? ""),
            conditions: conds,
            tape: String(m["z"] ?? "C"),
          },
        };
        break;
      case "t":
        e = {
          kind: "trade",
          trade: {
            symbol,
            t,
            id: Number(m["i"] ?? 0),
            price: num(m["p"], `${where}.p`, errors),
            size: size("s"),
            exchange: String(m["x"] ?? ""),
            conditions: conds,
            tape: String(m["z"] ?? "C"),
          },
        };
        break;
      case "b":
        e = {
          kind: "bar",
          bar: {
            symbol,
            t,
            open: num(m["o"], `${where}.o`, errors),
            high: num(m["h"], `${where}.h`, errors),
            low: num(m["l"], `${where}.l`, errors),
            close: num(m["c"], `${where}.c`, errors),
            volume: size("v"),
            tradeCount: Number(m["n"] ?? 0),
            vwap: m["vw"] === undefined ? 0n : num(m["vw"], `${where}.vw`, errors),
          },
        };
        break;
      default:
        errors.push(
          `${where}: unknown message type T=${JSON.stringify(m["T"])} (expected q, t or b)`,
        );
    }
    if (e && errors.length === before) events.push(e);
  });
  events.sort((a, b) => (timeOf(a) < timeOf(b) ? -1 : timeOf(a) > timeOf(b) ? 1 : 0));
  return { events, errors };
}

function timeOf(e: MarketEvent): bigint {
  return e.kind === "quote"
    ? e.quote.t
    : e.kind === "trade"
      ? e.trade.t
      : e.kind === "bar"
        ? e.bar.t
        : e.book.t;
}

export function createReplay(events: MarketEvent[], seed: number, depth: number): ReplayState {
  return { events, index: 0, prng: createPrng(seed, "replay"), depth, books: new Map() };
}

/** advanceReplay returns the recorded events up to `to`, each quote followed by its book update. */
export function advanceReplay(r: ReplayState, to: bigint): MarketEvent[] {
  const out: MarketEvent[] = [];
  while (r.index < r.events.length) {
    const e = r.events[r.index]!;
    if (timeOf(e) > to) break;
    r.index++;
    out.push(e);
    if (e.kind === "quote") {
      const q = e.quote;
      const bids: BookLevel[] = [];
      const asks: BookLevel[] = [];
      for (let i = 0; i < r.depth; i++) {
        bids.push({
          price: q.bidPrice - BigInt(i) * CENT,
          size: i === 0 ? q.bidSize * 100 : r.prng.int(1, 20) * 100,
        });
        asks.push({
          price: q.askPrice + BigInt(i) * CENT,
          size: i === 0 ? q.askSize * 100 : r.prng.int(1, 20) * 100,
        });
      }
      const prev = r.books.get(q.symbol) ?? { bids: [], asks: [] };
      r.books.set(q.symbol, { bids, asks });
      out.push({
        kind: "book",
        book: {
          symbol: q.symbol,
          t: q.t,
          bids: bookDiff(prev.bids, bids),
          asks: bookDiff(prev.asks, asks),
          reset: false,
        },
      });
    }
  }
  return out;
}
