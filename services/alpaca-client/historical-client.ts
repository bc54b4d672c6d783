/**
 * AlpacaHistoricalClient reads historical stock bars, trades and quotes from the Market Data API,
 * following `next_page_token` until it is null. Records come back as the same typed events the
 * stream delivers (market-data.ts).
 */
import type { RestClientOptions } from "./config.ts";
import { DEFAULT_REST_OPTIONS } from "./config.ts";
import type { Credentials } from "./credentials.ts";
import { HttpTransport, type QueryValue, type TransportDeps } from "./http-transport.ts";
import {
  type Bar,
  barFromWire,
  type Quote,
  quoteFromWire,
  type Trade,
  tradeFromWire,
  type WireRecord,
} from "./market-data.ts";

export interface HistoricalQuery {
  start?: string;
  end?: string;
  /** limit is the page size (1–10000). */
  limit?: number;
  feed?: "sip" | "iex" | "otc" | "boats";
  sort?: "asc" | "desc";
  asof?: string;
  currency?: string;
}

export interface BarsQuery extends HistoricalQuery {
  /** timeframe such as "1Min", "5Min", "1Hour", "1Day". */
  timeframe: string;
  adjustment?: "raw" | "split" | "dividend" | "spin-off" | "all";
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

type Kind = "bars" | "trades" | "quotes";

const CONVERTERS = {
  bars: barFromWire,
  trades: tradeFromWire,
  quotes: quoteFromWire,
} as const;

type ItemOf<K extends Kind> = K extends "bars" ? Bar : K extends "trades" ? Trade : Quote;

export interface HistoricalClientConfig {
  /** dataUrl is the Market Data API origin. */
  dataUrl: string;
  credentials: Credentials;
  options?: Partial<RestClientOptions>;
  deps?: TransportDeps;
}

export class AlpacaHistoricalClient {
  readonly transport: HttpTransport;

  constructor(config: HistoricalClientConfig) {
    const options = { ...DEFAULT_REST_OPTIONS, ...config.options };
    this.transport = new HttpTransport(
      config.dataUrl,
      config.credentials.headers(),
      options,
      config.deps ?? {},
    );
  }

  /** page fetches one page for one symbol (GET /v2/stocks/{symbol}/{kind}). */
  async page<K extends Kind>(
    kind: K,
    symbol: string,
    query: HistoricalQuery & Partial<BarsQuery>,
    pageToken?: string,
  ): Promise<Page<ItemOf<K>>> {
    const r = await this.transport.request<Record<string, unknown>>({
      method: "GET",
      path: `/v2/stocks/${encodeURIComponent(symbol)}/${kind}`,
      query: { ...toQuery(query), page_token: pageToken },
    });
    const raw = (r.data[kind] ?? []) as WireRecord[];
    const convert = CONVERTERS[kind] as (m: WireRecord, s: string) => ItemOf<K>;
    return { items: raw.map((m) => convert(m, symbol)), nextPageToken: token(r.data) };
  }

  /** multiPage fetches one page of the multi-symbol form (GET /v2/stocks/{kind}?symbols=). */
  async multiPage<K extends Kind>(
    kind: K,
    symbols: string[],
    query: HistoricalQuery & Partial<BarsQuery>,
    pageToken?: string,
  ): Promise<Page<ItemOf<K>>> {
    const r = await this.transport.request<Record<string, unknown>>({
      method: "GET",
      path: `/v2/stocks/${kind}`,
      query: { ...toQuery(query), symbols, page_token: pageToken },
    });
    const bySymbol = (r.data[kind] ?? {}) as Record<string, WireRecord[]>;
    const convert = CONVERTERS[kind] as (m: WireRecord, s: string) => ItemOf<K>;
    const items: ItemOf<K>[] = [];
    for (const [symbol, list] of Object.entries(bySymbol)) {
      for (const m of list ?? []) items.push(convert(m, symbol));
    }
    return { items, nextPageToken: token(r.data) };
  }

  /** bars iterates every bar of the range, page after page. */
  bars(symbol: string, query: BarsQuery): AsyncGenerator<Bar> {
    return this.#all((t) => this.page("bars", symbol, query, t));
  }

  trades(symbol: string, query: HistoricalQuery = {}): AsyncGenerator<Trade> {
    return this.#all((t) => this.page("trades", symbol, query, t));
  }

  quotes(symbol: string, query: HistoricalQuery = {}): AsyncGenerator<Quote> {
    return this.#all((t) => this.page("quotes", symbol, query, t));
  }

  /** multiBars iterates bars of several symbols (the order within a page is per symbol). */
  multiBars(symbols: string[], query: BarsQuery): AsyncGenerator<Bar> {
    return this.#all((t) => this.multiPage("bars", symbols, query, t));
  }

  multiTrades(symbols: string[], query: HistoricalQuery = {}): AsyncGenerator<Trade> {
    return this.#all((t) => this.multiPage("trades", symbols, query, t));
  }

  multiQuotes(symbols: string[], query: HistoricalQuery = {}): AsyncGenerator<Quote> {
    return this.#all((t) => this.multiPage("quotes", symbols, query, t));
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  async *#all<T>(fetchPage: (token: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
    let pageToken: string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const page = await fetchPage(pageToken);
      yield* page.items;
      if (page.nextPageToken === null || page.nextPageToken === "") return;
      // A token that comes back twice would loop forever; stop loudly instead.
      if (seen.has(page.nextPageToken)) {
        throw new Error(`next_page_token repeated: ${page.nextPageToken}`);
      }
      seen.add(page.nextPageToken);
      pageToken = page.nextPageToken;
    }
  }
}

function token(body: Record<string, unknown>): string | null {
  const t = body.next_page_token;
  return typeof t === "string" ? t : null;
}

function toQuery(q: HistoricalQuery & Partial<BarsQuery>): Record<string, QueryValue> {
  return { ...q } as Record<string, QueryValue>;
}
