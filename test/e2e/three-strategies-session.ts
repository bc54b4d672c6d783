/**
 * The recorded session and the pipeline of the live strategy tests: the built-in rules-model, a
 * moving-average crossover and an opening-range breakout voting, with a slower crossover as a
 * veto filter, over two seeded paths from 09:30 New York (so the opening range forms and breaks).
 */
import { createServer } from "node:net";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import type { RunHandle } from "../../services/pipeline/local-run.ts";
import { syntheticMarket } from "../../services/signal-bridge/model/synthetic-market.ts";
import type { ReplayQuote } from "../../services/signal-bridge/strategy/replay.ts";
import { defaultPipeline, waitFor } from "./support.ts";

/** 2026-06-15 13:30:00 UTC is 09:30 in New York (daylight saving time). */
export const OPEN_MS = Date.UTC(2026, 5, 15, 13, 30);
export const SYMBOLS = { AAPL: 187, MSFT: 410 } as const;
export const TICKS = 1500; // per symbol, 100 ms apart: 2.5 minutes of session
export const STEP_MS = 100;

/** session: two seeded paths interleaved, a quote only when it changes (simulator lines). */
export function session(): { lines: string[]; quotes: ReplayQuote[] } {
  const lines: string[] = [];
  const quotes: ReplayQuote[] = [];
  const paths = Object.entries(SYMBOLS).map(([symbol, price], k) => ({
    symbol,
    path: syntheticMarket({ seed: 31 + k, ticks: TICKS, startPrice: price }),
    last: "",
  }));
  for (let i = 0; i < TICKS; i++) {
    for (const [k, p] of paths.entries()) {
      const t = p.path[i]!;
      const bp = t.bidPrice.toFixed(2);
      const ap = t.askPrice.toFixed(2);
      const bs = Math.max(1, Math.round(t.bidSize / 100)) * 100;
      const as = Math.max(1, Math.round(t.askSize / 100)) * 100;
      const key = `${bp} ${ap} ${bs} ${as}`;
      if (key === p.last) continue;
      p.last = key;
      const ms = OPEN_MS + i * STEP_MS + k; // the two symbols a millisecond apart
      const time = new Date(ms).toISOString();
      lines.push(
        JSON.stringify({ T: "q", S: p.symbol, t: time, bp: Number(bp), bs, ap: Number(ap), as }),
      );
      quotes.push({
        symbol: p.symbol,
        timeNs: BigInt(ms) * 1_000_000n,
        bidPrice: Number(bp),
        bidSize: bs,
        askPrice: Number(ap),
        askSize: as,
      });
    }
  }
  return { lines, quotes };
}

/** threeStrategiesPipeline: the default pipeline on SYMBOLS with the four strategy entries. */
export async function threeStrategiesPipeline(): Promise<TradingPipeline> {
  const pipeline = await defaultPipeline();
  pipeline.metadata.name = "three-strategies";
  pipeline.spec.symbols = Object.keys(SYMBOLS);
  // Every signal the session's strategies make, not one a minute per symbol (the default file's
  // cool-down, which would hold most of the voters' signals).
  pipeline.spec.aggregation = { ...pipeline.spec.aggregation, signalCooldownSeconds: 0 };
  const entry = (id: string, module: string, params: object, more: object = {}) => ({
    id,
    module: `builtin:${module}`,
    params,
    weight: 1,
    role: "vote" as const,
    budgetShares: 0,
    ...more,
  });
  pipeline.spec.strategies = [
    entry("rules-model", "rules-model", {}),
    entry("trend", "ma-crossover", { fast: 20, slow: 80, minGapBps: 1 }),
    entry("orb", "opening-range-breakout", { rangeMinutes: 1 }, { weight: 2 }),
    // A slower trend that never votes but blocks signals against it.
    entry("filter", "ma-crossover", { fast: 50, slow: 200, mode: "trend" }, { role: "veto" }),
  ];
  return pipeline;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** counter reads one sample of a Prometheus counter from an exposition (0 when absent). */
export function counter(exposition: string, name: string, labels: Record<string, string>): number {
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

/** sessionSimulator: the simulator replaying `sessionFile`, its clock stopped until played. */
export function sessionSimulator(sessionFile: string): Promise<Simulator> {
  return startSimulator({
    seed: 1,
    speed: 5,
    clock: "manual",
    replayFile: sessionFile,
    startingCash: "1000000",
  });
}

/**
 * playSession waits for the run to start and every stage to be ready, starts the simulator's
 * clock, and returns once the simulated clock has passed the session's last quote.
 */
export async function playSession(
  sim: Simulator,
  handle: () => RunHandle | undefined,
  startMs = 90_000,
): Promise<RunHandle> {
  const h = await waitFor("the pipeline to start", startMs, handle);
  await waitFor("every stage ready", 120_000, () => h.status().stages.every((s) => s.ready));
  sim.admin.setClock({ mode: "realtime" });
  const endMs = OPEN_MS + TICKS * STEP_MS;
  await waitFor("the end of the session", 240_000, () => {
    const now = (sim.admin.state() as unknown as { clock: { now: string } }).clock.now;
    return Date.parse(now) > endMs;
  });
  return h;
}
