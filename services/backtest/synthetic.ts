/**
 * syntheticMarket: seeded market records from the simulator's own market model (random-walk mid
 * with volatility regimes, Poisson quotes and trades), in batches of `stepNs` of exchange time.
 * Tests and benchmarks use it as a dataset anyone can regenerate from its seed.
 */
import { advanceMarket, createMarket, type MarketOptions } from "../broker-sim/core/market.ts";
import { etDate } from "../broker-sim/core/time.ts";
import { ONE } from "../core/money.ts";
import { writeRecords } from "./catalog/catalog.ts";
import { bookRecord, type MarketRecord, quoteRecord, tradeRecord } from "./records.ts";

export interface SyntheticOptions {
  symbols: Record<string, number>;
  seed: number;
  startNs: bigint;
  durationNs: bigint;
  stepNs?: bigint;
  market?: Partial<MarketOptions>;
  /** books: also the model's L2 book changes, as book rows (the queue fill model reads them). */
  books?: boolean;
}

export function* syntheticBatches(o: SyntheticOptions): Generator<MarketRecord[]> {
  const market = createMarket(o.seed, o.symbols, o.startNs, o.market ?? {});
  const step = o.stepNs ?? 60_000_000_000n;
  const end = o.startNs + o.durationNs;
  for (let t = o.startNs; t < end; ) {
    const to = t + step < end ? t + step : end;
    const batch: MarketRecord[] = [];
    for (const e of advanceMarket(market, to)) {
      if (e.kind === "quote") {
        const q = e.quote;
        batch.push(
          quoteRecord(
            q.symbol,
            q.t,
            q.bidPrice,
            BigInt(q.bidSize) * ONE,
            q.askPrice,
            BigInt(q.askSize) * ONE,
          ),
        );
      } else if (e.kind === "trade") {
        const x = e.trade;
        batch.push(tradeRecord(x.symbol, x.t, x.price, BigInt(x.size) * ONE, x.id));
      } else if (e.kind === "book" && o.books === true) {
        const b = e.book;
        for (const [side, levels] of [
          ["bid", b.bids],
          ["ask", b.asks],
        ] as const) {
          for (const [i, l] of levels.entries())
            batch.push(
              bookRecord(b.symbol, b.t, side, l.price, BigInt(l.size) * ONE, b.reset && i === 0),
            );
        }
      }
    }
    yield batch;
    t = to;
  }
}

/** asAsync turns a synchronous batch generator into the engine's asynchronous source. */
export async function* asAsync<T>(batches: Iterable<T>): AsyncGenerator<T> {
  for (const b of batches) yield b;
}

/**
 * writeSyntheticCatalog writes `days` consecutive dates of quotes and trades into a catalog:
 * `minutes` of the market model from `startNs` each day (the same seed every day, or `seed + day`
 * when `varyByDay`), for tests and benchmarks.
 */
export function writeSyntheticCatalog(
  dir: string,
  o: {
    symbols: Record<string, number>;
    seed: number;
    startNs: bigint;
    minutes: bigint;
    days: number;
    varyByDay?: boolean;
  },
): void {
  const DAY = 86_400_000_000_000n;
  let base: MarketRecord[] | undefined;
  for (let i = 0; i < o.days; i++) {
    const start = o.startNs + BigInt(i) * DAY;
    let all: MarketRecord[];
    if (o.varyByDay) {
      all = [
        ...syntheticBatches({
          symbols: o.symbols,
          seed: o.seed + i,
          startNs: start,
          durationNs: o.minutes * 60_000_000_000n,
        }),
      ].flat();
    } else {
      base ??= [
        ...syntheticBatches({
          symbols: o.symbols,
          seed: o.seed,
          startNs: o.startNs,
          durationNs: o.minutes * 60_000_000_000n,
        }),
      ].flat();
      all =
        i === 0 ? base : base.map((r) => ({ ...r, exchangeNs: r.exchangeNs + BigInt(i) * DAY }));
    }
    const date = etDate(start);
    for (const s of Object.keys(o.symbols)) {
      writeRecords(
        dir,
        "quotes",
        s,
        date,
        all.filter((r) => r.symbol === s && r.kind === "quote"),
      );
      writeRecords(
        dir,
        "trades",
        s,
        date,
        all.filter((r) => r.symbol === s && r.kind === "trade"),
      );
    }
  }
}
