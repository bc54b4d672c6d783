/**
 * One sweep worker thread: runs the backtests it is handed (one at a time) and answers with
 * each window's figures. See sweep.ts.
 */
import { parentPort } from "node:worker_threads";
import type { TradingPipeline } from "../core/spec/index.ts";
import { summarize } from "./report/summary.ts";
import { runBacktestJob } from "./run.ts";

interface Task {
  id: number;
  pipeline: TradingPipeline;
  dataDir: string;
  from: string;
  to: string;
  symbols?: readonly string[];
}

parentPort?.on("message", (task: Task) => {
  runBacktestJob({
    pipeline: task.pipeline,
    dataDir: task.dataDir,
    from: task.from,
    to: task.to,
    ...(task.symbols ? { symbols: task.symbols } : {}),
  }).then(
    ({ result }) => {
      const s = summarize(result);
      parentPort?.postMessage({
        id: task.id,
        figures: {
          from: task.from,
          to: task.to,
          sharpe: s.figures.sharpe ?? null,
          totalReturn: s.figures.totalReturn ?? 0,
          orders: result.orders.length,
        },
      });
    },
    (err: unknown) => parentPort?.postMessage({ id: task.id, error: (err as Error).message }),
  );
});
