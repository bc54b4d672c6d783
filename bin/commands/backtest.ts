/**
 * `tradepipe backtest -f SPEC --data DIR --from DATE --to DATE --out DIR`: the spec's five stage
 * cores on history from the Parquet catalog, against the simulated venue (services/backtest).
 */
import { parseArgs } from "node:util";
import { parseDate } from "../../services/backtest/catalog/layout.ts";
import { DEFAULT_FEES } from "../../services/backtest/fees.ts";
import { parseLatencyMs } from "../../services/backtest/latency.ts";
import { runBacktestJob } from "../../services/backtest/run.ts";
import { fromDecimal } from "../../services/core/money.ts";
import { loadPipelineFile } from "../../services/core/spec/index.ts";

const USAGE = `usage: tradepipe backtest -f SPEC --data DIR --from DATE --to DATE --out DIR [options]

Runs the spec's strategy, risk, execution and position cores on the catalog's quotes and trades
(tradepipe data fetch) against a simulated venue, and writes into --out: tearsheet.html,
summary.json, charts/, orders.parquet, fills.parquet, trades.parquet, equity.parquet.

  -f, --file SPEC       the TradingPipeline spec (the same file tradepipe run takes)
  --data DIR            the catalog directory
  --from DATE --to DATE the New York dates to replay (YYYY-MM-DD, both included)
  --out DIR             where the results go (created; files in it are replaced)
  --symbols A,B         symbols instead of the spec's
  --seed N              the venue's seed (ids, latency jitter; default the spec's simulator seed)
  --latency SPEC        milliseconds, e.g. feed=5,submit=20/20,cancel=20/20,jitter=2
                        (submit and cancel: entry/response; default feed=5,submit=20/20,cancel=20/20)
  --limits MODEL        resting limit orders: conservative (default: fill only when the market
                        goes through the limit) or queue (L2 queue position)
  --quote-lot N         shares per unit of quote size (default 100: Alpaca's round lots)
  --sec-fee RATE        SEC fee rate on sales (default ${DEFAULT_FEES.secFeeRate === 0n ? "0" : "0.0000278"})
  --commission X        commission per share (default 0, as Alpaca)
  --risk-free RATE      annual risk-free rate for Sharpe and Sortino (default 0)
  --no-png              do not render chart PNGs
`;

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: "string", short: "f" },
        data: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        out: { type: "string" },
        symbols: { type: "string" },
        seed: { type: "string" },
        latency: { type: "string" },
        limits: { type: "string" },
        "quote-lot": { type: "string" },
        "sec-fee": { type: "string" },
        commission: { type: "string" },
        "risk-free": { type: "string" },
        "no-png": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    for (const required of ["file", "data", "from", "to", "out"]) {
      if (typeof values[required] !== "string") throw new Error(`--${required} is required`);
    }
  } catch (err) {
    process.stderr.write(`tradepipe backtest: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const from = parseDate(str("from")!, "--from");
  const to = parseDate(str("to")!, "--to");
  if (to < from) throw new Error(`--to ${to} is before --from ${from}`);
  const limits = str("limits") ?? "conservative";
  if (limits !== "conservative" && limits !== "queue")
    throw new Error(`--limits: "${limits}" is not conservative or queue`);
  const number = (k: string, fallback: number) => {
    const v = str(k);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${k}: "${v}" is not a number`);
    return n;
  };
  const pipeline = await loadPipelineFile(str("file")!);
  const started = performance.now();
  const { summary, result, data } = await runBacktestJob({
    pipeline,
    dataDir: str("data")!,
    from,
    to,
    outDir: str("out")!,
    ...(str("symbols")
      ? {
          symbols: str("symbols")!
            .split(",")
            .map((s) => s.trim().toUpperCase()),
        }
      : {}),
    ...(str("seed") ? { seed: number("seed", 1) } : {}),
    ...(str("latency") ? { latency: parseLatencyMs(str("latency")!) } : {}),
    restingLimits: limits,
    quoteLotShares: number("quote-lot", 100),
    fees: {
      ...DEFAULT_FEES,
      ...(str("sec-fee") ? { secFeeRate: fromDecimal(str("sec-fee")!) } : {}),
      ...(str("commission") ? { commissionPerShare: fromDecimal(str("commission")!) } : {}),
    },
    riskFreeAnnual: number("risk-free", 0),
    png: values["no-png"] !== true,
    onDay: (date, i, n) => process.stderr.write(`day ${i + 1}/${n} ${date}\n`),
    onProgress: (events, orders) => process.stderr.write(`  ${events} events, ${orders} orders\r`),
  });
  const secs = (performance.now() - started) / 1000;
  const f = summary?.figures ?? {};
  const p = (x: number | null | undefined) =>
    x === null || x === undefined ? "–" : `${(x * 100).toFixed(2)}%`;
  process.stdout.write(
    `\n${result.events} events in ${secs.toFixed(1)} s (${Math.round(result.events / secs)} events/s, loading ${(data.loadNs / 1e9).toFixed(1)} s); ` +
      `${result.orders.length} orders, ${result.fills.length} fills\n` +
      `total return ${p(f.totalReturn)}, Sharpe ${f.sharpe?.toFixed(2) ?? "–"}, max drawdown ${p(f.maxDrawdown)}, fees ${f.fees?.toFixed(2) ?? "–"} USD\n` +
      `results in ${str("out")}: tearsheet.html, summary.json\n`,
  );
  return 0;
}
