/**
 * `tradepipe features`: the catalog replayed through the signal-bridge's feature code into
 * Parquet. The offline rows must equal, value for value, what a live strategy declaring the same
 * features reads from the signal-bridge's engine on the same recorded session, and the labels
 * must be the forward returns of the data (recomputed naively here).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { main } from "../../bin/commands/features.ts";
import { catalogSource } from "../../services/backtest/catalog/catalog.ts";
import { readColumns } from "../../services/backtest/catalog/parquet.ts";
import { writeSyntheticCatalog } from "../../services/backtest/synthetic.ts";
import { toNumber } from "../../services/core/money.ts";
import {
  defineStrategy,
  feature,
  hold,
  type StrategyDefinition,
  Type,
} from "../../services/signal-bridge/strategy/api.ts";
import { StrategyEngine } from "../../services/signal-bridge/strategy/engine.ts";
import { prepareSlot } from "../../services/signal-bridge/strategy/slot.ts";

const dir = mkdtempSync(join(tmpdir(), "tradepipe-features-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("writes the live engine's feature values for a recorded session, with forward-return labels", async () => {
  const data = join(dir, "catalog");
  // 2026-03-10 14:00 UTC = 10:00 New York.
  writeSyntheticCatalog(data, {
    symbols: { AAA: 100, BBB: 50 },
    seed: 5,
    startNs: BigInt(Date.UTC(2026, 2, 10, 14, 0)) * 1_000_000n,
    minutes: 20n,
    days: 1,
  });
  const specPath = join(dir, "features.yaml");
  writeFileSync(
    specPath,
    `symbols: [AAA, BBB]
features:
  - rsi: { period: 14 }
  - spread_bps
  - return: { horizon: 5 }
  - trade_flow_imbalance: { halfLife: 30 }
  - microprice_offset_bps
  - minutes_since_open
label: { horizonSeconds: 30, barrierBps: 5 }
`,
  );
  const out = join(dir, "ds");
  const code = await main([
    "-f",
    specPath,
    "--data",
    data,
    "--from",
    "2026-03-10",
    "--to",
    "2026-03-10",
    "--out",
    out,
  ]);
  assert.equal(code, 0);
  const info = JSON.parse(readFileSync(join(out, "dataset.json"), "utf8"));
  const names: string[] = info.feature_names;
  assert.deepEqual(names, [
    "rsi(period=14)",
    "spread_bps()",
    "return(horizon=5)",
    "trade_flow_imbalance(halfLife=30)",
    "microprice_offset_bps()",
    "minutes_since_open()",
  ]);
  const { rows, columns } = await readColumns(join(out, "features.parquet"), [
    "event_ns",
    "label_end_ns",
    "symbol",
    "mid",
    ...names,
    "forward_return",
    "label",
    "barrier_label",
  ]);
  assert.ok(rows > 500, `${rows} rows`);

  // The live path: the same session through a StrategyEngine, a strategy declaring the features.
  const live = new Map<string, number[]>();
  const quotes = new Map<string, { t: bigint[]; mid: number[] }>();
  let now = { symbol: "", t: 0n };
  const reader = defineStrategy({
    name: "reader",
    description: "test",
    params: Type.Object({}),
    features: () => ({
      a: feature("rsi", { period: 14 }),
      b: feature("spread_bps"),
      c: feature("return", { horizon: 5 }),
      d: feature("trade_flow_imbalance", { halfLife: 30 }),
      e: feature("microprice_offset_bps"),
      f: feature("minutes_since_open"),
    }),
    create: () => ({
      onTick(_t, f, out) {
        hold(out, "x");
        const v = [f.a, f.b, f.c, f.d, f.e, f.f];
        if (v.every(Number.isFinite)) live.set(`${now.symbol}@${now.t}`, v.map(Math.fround));
        return false;
      },
    }),
  }) as unknown as StrategyDefinition;
  const engine = new StrategyEngine([prepareSlot(reader, { id: "r" })], {
    minConfidence: 1,
    defaultQty: 0,
  });
  for await (const batch of catalogSource({
    dir: data,
    symbols: ["AAA", "BBB"],
    from: "2026-03-10",
    to: "2026-03-10",
  })) {
    for (const r of batch) {
      if (r.kind === "trade") {
        engine.onTrade(r.symbol, r.exchangeNs, toNumber(r.price), toNumber(r.size));
        continue;
      }
      now = { symbol: r.symbol, t: r.exchangeNs };
      const q = quotes.get(r.symbol) ?? { t: [], mid: [] };
      quotes.set(r.symbol, q);
      q.t.push(r.exchangeNs);
      q.mid.push((toNumber(r.bidPrice) + toNumber(r.askPrice)) / 2);
      engine.onQuote(
        r.symbol,
        r.exchangeNs,
        toNumber(r.bidPrice),
        toNumber(r.bidSize),
        toNumber(r.askPrice),
        toNumber(r.askSize),
      );
      engine.finish();
    }
  }
  let tradesSeen = 0;
  for (let i = 0; i < rows; i++) {
    const symbol = columns.symbol![i] as string;
    const t = columns.event_ns![i] as bigint;
    const want = live.get(`${symbol}@${t}`);
    assert.ok(want, `row ${i} (${symbol} at ${t}) has no live counterpart`);
    for (const [j, n] of names.entries()) assert.equal(columns[n]![i], want[j], `row ${i} ${n}`);
    if (want[3] !== 0) tradesSeen++;
    // Forward return: the first quote at or after t + 30 s.
    const q = quotes.get(symbol)!;
    const end = t + 30_000_000_000n;
    assert.equal(columns.label_end_ns![i], end);
    const k = q.t.findIndex((x) => x >= end);
    const fwd = q.mid[k]! / (columns.mid![i] as number) - 1;
    assert.equal(columns.forward_return![i], fwd);
    assert.equal(columns.label![i], fwd > 0 ? 1 : 0);
  }
  assert.ok(tradesSeen > 100, "the trade-flow feature saw the session's trades");
  assert.ok(
    rows >= live.size * 0.9 && rows <= live.size, // rows whose horizon runs past the data are dropped
    `${rows} rows of ${live.size} warm quotes`,
  );
});
