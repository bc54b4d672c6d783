/**
 * Helpers for the end-to-end tests: a simulator under test control and its admin state, and
 * `tradepipe run` as a child process.
 */
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DEFAULT_PIPELINE_FILE } from "../../bin/commands/run.ts";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { loadPipelineFile, type TradingPipeline } from "../../services/core/spec/index.ts";
import {
  type LocalRunSummary,
  type RunHandle,
  runLocal,
} from "../../services/pipeline/local-run.ts";

export interface SimState {
  orders: Array<{
    client_order_id: string;
    symbol: string;
    side: string;
    qty: string;
    filled_qty: string;
    status: string;
  }>;
  order_requests: Array<{ kind: string; client_order_id: string | null; status: number }>;
  fills: Array<{ execution_id: string; client_order_id: string; symbol: string; qty: string }>;
  positions: Array<{ symbol: string; qty: string }>;
}

export function simState(sim: Simulator): SimState {
  return sim.admin.state() as unknown as SimState;
}

export async function defaultPipeline(): Promise<TradingPipeline> {
  return loadPipelineFile(DEFAULT_PIPELINE_FILE);
}

/**
 * A simulator as `tradepipe run` would start it, but with a fixed start time; with
 * `clock: "manual"` its market stands still until the test sets the clock running.
 */
export async function startTestSimulator(
  pipeline: TradingPipeline,
  speed?: number,
  clock: "realtime" | "manual" = "realtime",
  partialFillProbability?: number,
): Promise<Simulator> {
  const s = pipeline.spec.broker.simulator;
  return startSimulator({
    seed: s.seed,
    speed: speed ?? s.speed,
    clock,
    symbols: pipeline.spec.symbols,
    startingCash: s.startingCash,
    startTime: "2026-03-02T14:30:00Z",
    ...(partialFillProbability !== undefined ? { partialFillProbability } : {}),
  });
}

/** waitFor polls `check` until it returns a value, or fails after `ms` naming `what`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  check: () => T | undefined | false | Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** duplicates returns the client_order_ids the broker received more than once. */
export function duplicateSends(state: SimState): string[] {
  const seen = new Map<string, number>();
  for (const r of state.order_requests) {
    if (r.kind !== "submit" || !r.client_order_id) continue;
    seen.set(r.client_order_id, (seen.get(r.client_order_id) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

/** RunOutput: what a `tradepipe run` child printed, its exit code and when it first filled. */
export interface RunOutput {
  out: string;
  err: string;
  code: number | null;
  /** Milliseconds from the start to the first status line reporting fills. */
  firstFillMs: number;
}

/**
 * runUntilFilled starts `tradepipe run` with `env`, waits for a status line with fills > 0,
 * then stops it with Ctrl-C (SIGINT) and waits for it to exit. The stages' /metrics listen on
 * free ports, so other tests can run beside it. Rejects, with the output, if it exits first.
 */
export async function runUntilFilled(env: NodeJS.ProcessEnv): Promise<RunOutput> {
  const child = spawn(process.execPath, [cli, "run", "--metrics-port", "0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const started = Date.now();
    const firstFillMs = await new Promise<number>((resolve, reject) => {
      // The status line comes every 5 s when stdout is not a terminal.
      const timer = setInterval(() => {
        const fills = [...out.matchAll(/^status .* fills=(\d+)/gm)].map((m) => Number(m[1]));
        if (fills.some((n) => n > 0)) {
          clearInterval(timer);
          resolve(Date.now() - started);
        }
      }, 250);
      void exited.then((code) => {
        clearInterval(timer);
        reject(
          new Error(
            `tradepipe run exited (${code}) before any fill:\n${out.slice(-3000)}\n${err.slice(-3000)}`,
          ),
        );
      });
    });
    child.kill("SIGINT");
    const code = await exited;
    return { out, err, code, firstFillMs };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** CliExit: how a `tradepipe` child ended and what it printed. */
export interface CliExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** tradepipe runs the CLI with `args` to its end; past `timeoutMs` it is interrupted and rejects. */
export function tradepipe(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<CliExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGINT");
      reject(new Error(`tradepipe ${args.join(" ")}: still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `tradepipe run` started in this process by startRun. */
export interface TestRun {
  /** Settles when the run has stopped. */
  run: Promise<LocalRunSummary>;
  /** Asks the run to stop (as Ctrl-C would). */
  stop(): void;
  /** The run's handle, once it has started. */
  handle(): RunHandle | undefined;
}

/**
 * startRun runs the default pipeline as `tradepipe run` does, on `databaseUrl` and `simulator`,
 * quietly (warn-level logs, no status lines, free health ports); `env` adds to the environment.
 */
export function startRun(o: {
  pipeline: TradingPipeline;
  simulator: Simulator;
  databaseUrl: string;
  fused: boolean;
  env?: NodeJS.ProcessEnv;
  /** First /health, /ready, /metrics port (default 0: free ports). */
  healthPort?: number;
}): TestRun {
  const stop = new AbortController();
  let handle: RunHandle | undefined;
  const run = runLocal({
    pipeline: o.pipeline,
    specFile: DEFAULT_PIPELINE_FILE,
    fused: o.fused,
    durationSeconds: 0,
    simulator: o.simulator,
    stopSignal: stop.signal,
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      TRADEPIPE_LOG_LEVEL: "warn",
      ...o.env,
    },
    statusIntervalMs: 60_000,
    healthPort: o.healthPort ?? 0,
    onStarted: (h) => {
      handle = h;
    },
  });
  return { run, stop: () => stop.abort(), handle: () => handle };
}
