/**
 * `tradepipe backtest` end to end: a catalog of two days of synthetic quotes and trades, the CLI
 * in its own process, and every output read back (summary.json, tearsheet.html, Parquet files).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readColumns } from "../../services/backtest/catalog/parquet.ts";
import { writeSyntheticCatalog } from "../../services/backtest/synthetic.ts";
import { T0 } from "../../services/backtest/test-support.ts";
import { etDate } from "../../services/broker-sim/core/time.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const DAY = 86_400_000_000_000n;

describe("tradepipe backtest", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tp-backtest-"));
    writeSyntheticCatalog(join(dir, "data"), {
      symbols: { AAPL: 190, MSFT: 410 },
      seed: 20,
      startNs: T0,
      minutes: 20n,
      days: 2,
      varyByDay: true,
    });
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
        "--record",
        join(dir, "recording"),
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

  it("--replay gives the recorded order intents byte for byte, and exits 1 for another strategy", async () => {
    const recording = join(dir, "recording");
    const { stdout } = await run(
      process.execPath,
      ["bin/tradepipe.ts", "backtest", "-f", "config/pipeline.yaml", "--replay", recording],
      { cwd: ROOT },
    );
    assert.match(stdout, /[1-9]\d* order intents, sha256 [0-9a-f]{64}/);
    assert.match(stdout, /identical to the recorded intents/);
    const simulated = await run(
      process.execPath,
      [
        "bin/tradepipe.ts",
        "backtest",
        "-f",
        "config/pipeline.yaml",
        "--replay",
        recording,
        "--venue",
        "simulated",
      ],
      { cwd: ROOT },
    );
    assert.match(simulated.stdout, /AAPL .* \/ 0\.00%/);
    assert.match(simulated.stdout, /MSFT .*\/ 0\.00\n/);
    const other = join(dir, "other.yaml");
    writeFileSync(
      other,
      readFileSync(join(ROOT, "config/pipeline.yaml"), "utf8").replace(
        "  strategy:\n",
        "  strategy:\n    orderQty: 37\n",
      ),
    );
    assert.match(readFileSync(other, "utf8"), /orderQty: 37/);
    await assert.rejects(
      run(process.execPath, ["bin/tradepipe.ts", "backtest", "-f", other, "--replay", recording], {
        cwd: ROOT,
      }),
      (e: { code: number; stdout: string }) =>
        e.code === 1 && /DIFFERENT .* first difference at intent 1/.test(e.stdout),
    );
  });

  it("--check lookahead finds none in the built-in strategy; --check warmup fails a too-short warm-up", async () => {
    const common = [
      "bin/tradepipe.ts",
      "backtest",
      "-f",
      "config/pipeline.yaml",
      "--data",
      join(dir, "data"),
    ];
    const range = ["--from", etDate(T0), "--to", etDate(T0), "--symbols", "AAPL,MSFT"];
    const lookahead = await run(
      process.execPath,
      [...common, ...range, "--check", "lookahead", "--samples", "3"],
      {
        cwd: ROOT,
      },
    );
    assert.match(lookahead.stdout, /3 re-run on data cut/);
    assert.match(lookahead.stdout, /no look-ahead found/);
    const warm = await run(process.execPath, [...common, ...range, "--check", "warmup"], {
      cwd: ROOT,
    });
    assert.match(warm.stdout, /ticks +RSI/);
    assert.match(warm.stdout, /within 1\.0000% after 500 ticks/);
    await assert.rejects(
      run(
        process.execPath,
        [...common, ...range, "--check", "warmup", "--warmup-ticks", "50", "--tolerance", "0"],
        {
          cwd: ROOT,
        },
      ),
      (e: { code: number; stdout: string }) =>
        e.code === 1 && /DIFFERS by .* after 50 ticks/.test(e.stdout),
    );
  });
});
