/**
 * types: the market-data and order values the simulator's core produces. Prices are exact
 * `Fixed` decimals; sizes of market data are whole shares (numbers); time is bigint nanoseconds.
 */
import type { Fixed } from "../../core/money.ts";
import type { Nanos } from "./time.ts";

export interface Quote {
  symbol: string;
  t: Nanos;
  bidPrice: Fixed;
  bidSize: number;
  bidExchange: string;
  askPrice: Fixed;
  askSize: number;
  askExchange: string;
  conditions: string[];
  tape: string;
}

export interface Trade {
  symbol: string;
  t: Nanos;
  id: number;
  price: Fixed;
  size: number;
  exchange: string;
  conditions: string[];
  tape: string;
}

export interface Bar {
  symbol: string;
  /** t is the start of the bar's interval. */
  t: Nanos;
  open: Fixed;
  high: Fixed;
  low: Fixed;
  close: Fixed;
  volume: number;
  tradeCount: number;
  vwap: Fixed;
}

export interface BookLevel {
  price: Fixed;
  size: number;
}

/** BookUpdate carries changed levels (size 0 = level removed), or the whole book when reset. */
export interface BookUpdate {
  symbol: string;
  t: Nanos;
  bids: BookLevel[];
  asks: BookLevel[];
  reset: boolean;
}

export type MarketEvent =
  | { kind: "quote"; quote: Quote }
  | { kind: "trade"; trade: Trade }
  | { kind: "bar"; bar: Bar }
  | { kind: "book"; book: BookUpdate };
