/**
 * `tradepipe backtest` end to end: a catalog of two days of synthetic quotes and trades, the CLI
 * in its own process, and every output read back (summary.json, tearsheet.html, Parquet files).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { writeRecords } from "../../services/backtest/catalog/catalog.ts";
import { readColumns } from "../../services/backtest/catalog/parquet.ts";
import { syntheticBatches } from "../../services/backtest/synthetic.ts";
import { T0 } from "../../services/backtest/test-support.ts";
import { etDate } from "../../services/broker-sim/core/time.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const DAY = 86_400_000_000_000n;
const MINUTE = 60_000_000_000n;

describe("tradepipe backtest", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tp-backtest-"));
    const symbols = { AAPL: 190, MSFT: 410 };
    for (const [i, start] of [T0, T0 + DAY].entries()) {
      const all = [
        ...syntheticBatches({ symbols, seed: 20 + i, startNs: start, durationNs: 20n * MINUTE }),
      ].flat();
      for (const s of Object.keys(symbols)) {
        writeRecords(
          join(dir, "data"),
          "quotes",
          s,
          etDate(start),
          all.filter((r) => r.symbol === s && r.kind === "quote"),
        );
        writeRecords(
          join(dir, "data"),
          "trades",
          s,
          etDate(start),
          all.filter((r) => r.symbol === s && r.kind === "trade"),
        );
      }
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("replays the catalog and writes the tearsheet, summary.json and Parquet results", async () => {
    const out = join(dir, "out");
    const { stdout, stderr } = await run(
      process.execPath,
      [
        "bin/tradepipe.ts",
        "backtest",
        "-f",
        "config/pipeline.yaml",
        "--data",
        join(dir, "data"),
        "--from",
        etDate(T0),
        "--to",
        etDate(T0 + DAY),
        "--symbols",
        "AAPL,MSFT",
        "--out",
        out,
        "--risk-free",
        "0.04",
      ],
      { cwd: ROOT, maxBuffer: 1 << 24 },
    );
    assert.match(stderr, /day 2\/2/);
    assert.match(stdout, /events in .* orders, \d+ fills/);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    assert.equal(summary.period.tradingDays, 2);
    assert.equal(summary.conventions.periodsPerYear, 252);
    assert.equal(summary.conventions.riskFreeAnnual, 0.04);
    const f = summary.figures;
    assert.ok(summary.counts.orders > 0 && summary.counts.fills > 0);
    assert.ok(Math.abs(f.totalReturn - (f.finalEquity / f.startingEquity - 1)) < 1e-12);
    for (const k of [
      "sharpe",
      "sortino",
      "maxDrawdown",
      "volatility",
      "winRateByPeriod",
      "exposure",
      "turnover",
      "fees",
      "fillRatio",
      "slippageBps",
    ]) {
      assert.ok(k in f, k);
    }
    assert.deepEqual(Object.keys(summary.bySymbol).sort(), ["AAPL", "MSFT"]);
    const html = readFileSync(join(out, "tearsheet.html"), "utf8");
    for (const chart of ["equity", "drawdown", "monthly", "pnlBySymbol", "latency", "slippage"]) {
      assert.match(html, new RegExp(`<figure id="chart-${chart}"><svg`), chart);
      assert.ok(existsSync(join(out, "charts", `${chart}.png`)), `${chart}.png`);
    }
    assert.doesNotMatch(html, /<script|src="http/, "self-contained");
    const orders = await readColumns(join(out, "orders.parquet"), ["client_order_id", "status"]);
    assert.equal(orders.rows, summary.counts.orders);
    const fills = await readColumns(join(out, "fills.parquet"), ["price"]);
    assert.equal(fills.rows, summary.counts.fills);
    const trades = await readColumns(join(out, "trades.parquet"), ["pnl"]);
    assert.equal(trades.rows, f.roundTrips);
  });
});
