/**
 * The models compared by `tradepipe backtest` on the same data, out of sample: a synthetic
 * catalog of five days (the simulator's market model, seeded); `tradepipe features` and
 * `tradepipe train` (LightGBM) on the first three; then three backtests of the last two days:
 *
 * - shipped: the built-in strategy (RSI / MACD / Bollinger rules + config/models/signal.onnx,
 *   the logistic model) as config/pipeline.yaml runs it;
 * - trained: builtin:model-features with the newly trained LightGBM model;
 * - no model: the same rules without a model (test/bench/support/rules-only.ts).
 *
 * Every run goes through the CLI a user runs; the table is read from each run's summary.json.
 *
 *   npm run bench -- model-backtest [--quick]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeSyntheticCatalog } from "../../services/backtest/synthetic.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tradepipe-bench-model-backtest-"));
const SYMBOLS = { AAA: 100, BBB: 50 };
const TRAIN = { from: "2026-03-09", to: "2026-03-11" };
const TEST = { from: "2026-03-12", to: "2026-03-13" };
const FEATURES = [
  "rsi(period=14)",
  "spread_bps()",
  "return(horizon=5)",
  "realized_vol(period=20)",
  "trade_flow_imbalance(halfLife=30)",
  "microprice_offset_bps()",
  "book_imbalance_depth(levels=1)",
  "ema_distance(period=50)",
  "order_flow_imbalance(period=50)",
];

/** tradepipe runs the CLI as a user does and returns its stdout (stderr passed through). */
function tradepipe(argv: string[]): string {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/tradepipe.ts"), ...argv], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: "1" },
  });
  if (r.status !== 0) {
    throw new Error(`tradepipe ${argv.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  }
  console.log(`  tradepipe ${argv[0]} … ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r.stdout;
}

/** pipeline writes a backtest spec: the default pipeline's settings with `strategy` lines. */
function pipeline(name: string, strategy: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `apiVersion: tradepipe.io/v1alpha1
kind: TradingPipeline
metadata:
  name: ${name}
spec:
  broker: { kind: simulator, simulator: { seed: 42 } }
  symbols: [${Object.keys(SYMBOLS).join(", ")}]
${strategy}`,
  );
  return path;
}

try {
  writeSyntheticCatalog(join(dir, "catalog"), {
    symbols: SYMBOLS,
    seed: 5,
    startNs: BigInt(Date.UTC(2026, 2, 9, 14, 30)) * 1_000_000n,
    minutes: args.quick ? 45n : 120n,
    days: 5,
    varyByDay: true,
  });
  writeFileSync(
    join(dir, "features.yaml"),
    `symbols: [${Object.keys(SYMBOLS).join(", ")}]
features: [rsi: { period: 14 }, spread_bps, return: { horizon: 5 }, realized_vol: { period: 20 },
  trade_flow_imbalance: { halfLife: 30 }, microprice_offset_bps, book_imbalance_depth: { levels: 1 },
  ema_distance: { period: 50 }, order_flow_imbalance: { period: 50 }]
label: { horizonSeconds: 30 }
`,
  );
  console.log("steps:");
  tradepipe([
    "features",
    "-f",
    join(dir, "features.yaml"),
    "--data",
    join(dir, "catalog"),
    "--from",
    TRAIN.from,
    "--to",
    TRAIN.to,
    "--out",
    join(dir, "ds"),
  ]);
  const trained = tradepipe([
    "train",
    "-f",
    join(dir, "features.yaml"),
    "--dataset",
    join(dir, "ds"),
    "--out",
    join(dir, "models"),
  ])
    .trim()
    .split("\n")
    .at(-1)!
    .trim();
  const specs = {
    "shipped (rules + logistic signal.onnx)": pipeline("shipped", ""),
    "trained (model-features + LightGBM)": pipeline(
      "trained",
      `  strategies:
    - id: lgbm
      module: builtin:model-features
      params:
        modelRef: ${trained}
        features: [${FEATURES.map((f) => JSON.stringify(f)).join(", ")}]
        buyAbove: 0.55
        sellBelow: 0.45
`,
    ),
    "no model (the same rules alone)": pipeline(
      "rules",
      `  strategies:
    - id: rules
      module: ${join(ROOT, "test/bench/support/rules-only.ts")}
`,
    ),
  };
  const rows: string[][] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const out = join(dir, `out-${rows.length}`);
    tradepipe([
      "backtest",
      "-f",
      spec,
      "--data",
      join(dir, "catalog"),
      "--from",
      TEST.from,
      "--to",
      TEST.to,
      "--out",
      out,
      "--no-png",
    ]);
    const s = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    const f = s.figures;
    const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(3)}%`);
    const num = (x: number | null, d = 2) => (x === null ? "–" : x.toFixed(d));
    rows.push([
      name,
      String(s.counts.signals),
      String(s.counts.orders),
      String(f.roundTrips),
      `${(f.finalEquity - f.startingEquity).toFixed(2)}`,
      pct(f.totalReturn),
      pct(f.maxDrawdown),
      pct(f.winRateByTrade),
      num(f.fees),
    ]);
  }
  const head = [
    "model",
    "signals",
    "orders",
    "round trips",
    "P&L $",
    "return",
    "max DD",
    "win rate",
    "fees $",
  ];
  console.log(
    `\nmodel-backtest bench (node ${process.version}): train ${TRAIN.from}..${TRAIN.to}, backtest ${TEST.from}..${TEST.to}, ${Object.keys(SYMBOLS).join("+")}, ${args.quick ? 45 : 120} min/day`,
  );
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  console.log(`trained model: ${trained}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
