/**
 * `tradepipe data fetch` against the simulator's historical API over real HTTP: the catalog it
 * writes holds exactly the quotes, trades and bars the API serves for the dates.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import { AlpacaHistoricalClient } from "../../services/alpaca-client/historical-client.ts";
import {
  catalogSource,
  newCatalogStats,
  readBars,
} from "../../services/backtest/catalog/catalog.ts";
import { partitionPath } from "../../services/backtest/catalog/layout.ts";
import type { MarketRecord } from "../../services/backtest/records.ts";
import { etDate } from "../../services/broker-sim/core/time.ts";
import { DEV_KEYS, startSimulator } from "../../services/broker-sim/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const DATE = "2026-03-02";

describe("tradepipe data fetch", () => {
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let dir: string;
  before(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 11,
      clock: "manual",
      startTime: `${DATE}T15:00:00Z`,
      symbols: ["AAPL", "MSFT"],
    });
    sim.admin.advance(3 * 60_000);
    dir = mkdtempSync(join(tmpdir(), "tp-fetch-"));
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the API's quotes, trades and bars into the catalog, by symbol and date", async () => {
    const spec = join(dir, "spec.yaml");
    writeFileSync(
      spec,
      `apiVersion: tradepipe.io/v1alpha1\nkind: TradingPipeline\nmetadata:\n  name: fetch\nspec:\n  broker:\n    kind: alpaca\n    historicalDataUrl: ${sim.dataRestUrl}\n    credentialsSecretRef:\n      name: alpaca-keys\n  symbols: [AAPL, MSFT]\n`,
    );
    const catalog = join(dir, "catalog");
    const { stdout } = await run(
      process.execPath,
      [
        "bin/tradepipe.ts",
        "data",
        "fetch",
        "-f",
        spec,
        "--from",
        DATE,
        "--to",
        DATE,
        "--data",
        catalog,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          APCA_API_KEY_ID: DEV_KEYS.keyId,
          APCA_API_SECRET_KEY: DEV_KEYS.secretKey,
        },
      },
    );
    assert.match(stdout, /6 files/);
    const client = new AlpacaHistoricalClient({
      dataUrl: sim.dataRestUrl,
      credentials: new Credentials(DEV_KEYS.keyId, DEV_KEYS.secretKey, "test"),
    });
    try {
      const range = { start: `${DATE}T00:00:00Z`, end: `${DATE}T23:59:59Z`, limit: 10_000 };
      const stats = newCatalogStats();
      const read: MarketRecord[] = [];
      for await (const b of catalogSource({
        dir: catalog,
        symbols: ["AAPL", "MSFT"],
        from: DATE,
        to: DATE,
        stats,
      })) {
        read.push(...b);
      }
      for (const symbol of ["AAPL", "MSFT"]) {
        const quotes: string[] = [];
        for await (const q of client.quotes(symbol, range)) {
          quotes.push(`${q.timestampNs},${q.bidPrice},${q.bidSize},${q.askPrice},${q.askSize}`);
        }
        assert.ok(quotes.length > 100, `${symbol} quotes served`);
        const got = read
          .filter((r) => r.symbol === symbol && r.kind === "quote")
          .map((r) => `${r.exchangeNs},${r.bidPrice},${r.bidSize},${r.askPrice},${r.askSize}`);
        assert.deepEqual(got, quotes);
        const trades: string[] = [];
        for await (const t of client.trades(symbol, range))
          trades.push(`${t.timestampNs},${t.price},${t.size},${t.id}`);
        const gotTrades = read
          .filter((r) => r.symbol === symbol && r.kind === "trade")
          .map((r) => `${r.exchangeNs},${r.price},${r.size},${r.tradeId}`);
        assert.deepEqual(gotTrades, trades);
        const bars: string[] = [];
        // Partitions hold New York dates: the early UTC hours belong to the day before.
        for await (const b of client.bars(symbol, { ...range, timeframe: "1Min" })) {
          if (etDate(b.timestampNs) === DATE) bars.push(`${b.timestampNs},${b.close}`);
        }
        assert.ok(bars.length > 0, `${symbol} bars served`);
        const gotBars = (await readBars(partitionPath(catalog, "bars", symbol, DATE))).map(
          (b) => `${b.timeNs},${b.close}`,
        );
        assert.deepEqual(gotBars, bars);
      }
    } finally {
      await client.close();
    }
  });

  it("refuses a bad date with a message naming the option", async () => {
    await assert.rejects(
      run(
        process.execPath,
        [
          "bin/tradepipe.ts",
          "data",
          "fetch",
          "-f",
          "config/pipeline.yaml",
          "--from",
          "2026-13-01",
          "--to",
          DATE,
          "--data",
          dir,
        ],
        { cwd: ROOT },
      ),
      (e: { stderr: string }) => /--from: "2026-13-01" is not a date/.test(e.stderr),
    );
  });
});
