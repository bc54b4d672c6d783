import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { etDate } from "../../broker-sim/core/time.ts";
import { isTradepipeError } from "../../core/errors.ts";
import { fromDecimal } from "../../core/money.ts";
import { bookRecord, type MarketRecord, quoteRecord, tradeRecord } from "../records.ts";
import { syntheticBatches } from "../synthetic.ts";
import { T0 } from "../test-support.ts";
import { catalogSource, newCatalogStats, writeBooks, writeRecords } from "./catalog.ts";
import { partitionPath } from "./layout.ts";
import { writeParquet } from "./parquet.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "tp-catalog-"));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const MINUTE = 60_000_000_000n;

async function collect(src: AsyncIterable<readonly MarketRecord[]>): Promise<MarketRecord[]> {
  const out: MarketRecord[] = [];
  for await (const b of src) out.push(...b);
  return out;
}

describe("catalog", () => {
  it("writes Parquet partitions and reads them back exactly, merged across symbols and kinds by time", async () => {
    const dir = tempDir();
    const symbols = { AAPL: 190, MSFT: 410 };
    const all = [
      ...syntheticBatches({ symbols, seed: 4, startNs: T0, durationNs: 5n * MINUTE }),
    ].flat();
    const date = etDate(T0);
    for (const s of Object.keys(symbols)) {
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
    const stats = newCatalogStats();
    const back = await collect(
      catalogSource({
        dir,
        symbols: Object.keys(symbols),
        from: date,
        to: date,
        stats,
        batchSize: 1000,
      }),
    );
    assert.equal(stats.files, 4);
    assert.equal(back.length, all.length);
    for (let i = 1; i < back.length; i++) assert.ok(back[i]!.exchangeNs >= back[i - 1]!.exchangeNs);
    const key = (r: MarketRecord) =>
      [
        r.kind,
        r.symbol,
        r.exchangeNs,
        r.bidPrice,
        r.bidSize,
        r.askPrice,
        r.askSize,
        r.price,
        r.size,
        r.tradeId,
      ].join(",");
    assert.deepEqual(back.map(key).sort(), all.map(key).sort());
  });

  it("names the file and row of out-of-order timestamps and negative sizes; counts crossed quotes", async () => {
    const dir = tempDir();
    const date = etDate(T0);
    const q = (t: bigint, bid: string, ask: string, size = "3") =>
      quoteRecord("AAPL", t, fromDecimal(bid), fromDecimal(size), fromDecimal(ask), fromDecimal(2));
    writeRecords(dir, "quotes", "AAPL", date, [
      q(T0, "1", "1.01"),
      q(T0 + 2n, "1", "1.01"),
      q(T0 + 1n, "1", "1.01"),
    ]);
    const path = partitionPath(dir, "quotes", "AAPL", date);
    await assert.rejects(
      collect(catalogSource({ dir, symbols: ["AAPL"], from: date, to: date })),
      (e: Error) => {
        assert.ok(isTradepipeError(e, "TP_ERR_BAD_DATA"));
        assert.match(
          e.message,
          new RegExp(`${path.replaceAll(".", "\\.")}: row 2: t_ns .*out of order`),
        );
        return true;
      },
    );
    writeRecords(dir, "quotes", "AAPL", date, [q(T0, "1", "1.01"), q(T0 + 1n, "1", "1.01", "-5")]);
    await assert.rejects(
      collect(catalogSource({ dir, symbols: ["AAPL"], from: date, to: date })),
      /row 1: bid_size is negative/,
    );
    writeRecords(dir, "quotes", "AAPL", date, [
      q(T0, "1", "1.01"),
      q(T0 + 1n, "1.02", "1.01"),
      q(T0 + 2n, "1", "1.01"),
    ]);
    const stats = newCatalogStats();
    const back = await collect(
      catalogSource({ dir, symbols: ["AAPL"], from: date, to: date, stats }),
    );
    assert.equal(back.length, 2);
    assert.equal(stats.crossedQuotesSkipped, 1);
    writeParquet(partitionPath(dir, "trades", "AAPL", date), [
      { name: "t_ns", type: "INT64", data: [T0] },
      { name: "received_ns", type: "INT64", data: [-1n] },
      { name: "price", type: "DOUBLE", data: [Number.NaN] },
      { name: "size", type: "DOUBLE", data: [1] },
      { name: "trade_id", type: "INT64", data: [1n] },
    ]);
    await assert.rejects(
      collect(catalogSource({ dir, symbols: ["AAPL"], from: date, to: date, kinds: ["trades"] })),
      /row 0: price is not a finite number/,
    );
  });

  it("keeps the receive time of recorded events", async () => {
    const dir = tempDir();
    const date = etDate(T0);
    writeRecords(dir, "trades", "AAPL", date, [
      tradeRecord("AAPL", T0, fromDecimal("1.5"), fromDecimal(7), 9, T0 + 1234n),
    ]);
    const [r] = await collect(catalogSource({ dir, symbols: ["AAPL"], from: date, to: date }));
    assert.equal(r?.receivedNs, T0 + 1234n);
    assert.equal(r?.tradeId, 9);
  });

  it("L2 books: one row per level change, read back exactly and merged after quotes and trades; bad rows named", async () => {
    const dir = tempDir();
    const date = etDate(T0);
    const d = fromDecimal;
    const rows = [
      bookRecord("AAPL", T0, "bid", d("100.00"), d(300), true, T0 + 5n),
      bookRecord("AAPL", T0, "bid", d("99.99"), d(500), false, T0 + 5n),
      bookRecord("AAPL", T0, "ask", d("100.02"), d(400), true, T0 + 5n),
      bookRecord("AAPL", T0 + 10n, "bid", d("99.99"), d(0), false, T0 + 15n),
    ];
    writeBooks(dir, "AAPL", date, rows);
    writeRecords(dir, "quotes", "AAPL", date, [
      quoteRecord("AAPL", T0, d("100.00"), d(3), d("100.02"), d(4), T0 + 5n),
    ]);
    const q = { dir, symbols: ["AAPL"], from: date, to: date };
    const plain = await collect(catalogSource(q));
    assert.deepEqual(
      plain.map((r) => r.kind),
      ["quote"],
      "books only when asked for",
    );
    const all = await collect(catalogSource({ ...q, kinds: ["quotes", "trades", "books"] }));
    assert.deepEqual(
      all.map((r) => r.kind),
      ["quote", "book", "book", "book", "book"],
    );
    assert.deepEqual(all.slice(1), rows);
    writeParquet(partitionPath(dir, "books", "MSFT", date), [
      { name: "t_ns", type: "INT64", data: [T0, T0] },
      { name: "received_ns", type: "INT64", data: [T0, T0] },
      { name: "side", type: "STRING", data: ["bid", "middle"] },
      { name: "price", type: "DOUBLE", data: [1, 1] },
      { name: "size", type: "DOUBLE", data: [1, 1] },
      { name: "reset", type: "BOOLEAN", data: [true, false] },
    ]);
    await assert.rejects(
      collect(catalogSource({ ...q, symbols: ["MSFT"], kinds: ["books"] })),
      (e: Error) =>
        isTradepipeError(e, "TP_ERR_BAD_DATA") && /MSFT.*row 1: side is "middle"/.test(e.message),
    );
  });
});
