/**
 * pipeline-run: the pieces the pipeline benchmark starts and drives — the simulator process, the
 * probed processes (floors, the fused pipeline, the stage processes), and the closed-loop tick
 * driver.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { deserialize, type ProbeRecord } from "./pipeline-probe.ts";

const SUPPORT = fileURLToPath(new URL(".", import.meta.url));
export const PROBE_MODULE = join(SUPPORT, "pipeline-probe.ts");

/** Message is what the benchmark's child processes send over IPC. */
export type Message = { type: string; [key: string]: unknown };

/** Child wraps a forked process that answers requests over IPC, one at a time. */
export class Child {
  readonly proc: ChildProcess;
  readonly #inbox: Message[] = [];
  #waiter: ((m: Message) => void) | undefined;

  constructor(proc: ChildProcess) {
    this.proc = proc;
    proc.on("message", (m: Message) => {
      const w = this.#waiter;
      if (w) {
        this.#waiter = undefined;
        w(m);
      } else this.#inbox.push(m);
    });
  }

  /** next resolves with the next message (or fails if the process exits first). */
  next(what: string): Promise<Message> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${what}: process exited (${code})`));
      this.proc.once("exit", onExit);
      this.#waiter = (m) => {
        this.proc.off("exit", onExit);
        resolve(m);
      };
    });
  }

  request(msg: Message, what = msg.type): Promise<Message> {
    this.proc.send(msg);
    return this.next(what);
  }

  async stop(msg: Message = { type: "stop" }): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, "exit");
    if (this.proc.connected) this.proc.send(msg);
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** probeEnv preloads the probe into a child and tells it where to write its record. */
export function probeEnv(probeDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...extra,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${pathToFileURL(PROBE_MODULE).href}`,
    TRADEPIPE_BENCH_PROBE_DIR: probeDir,
  };
}

export function forkChild(module: string, args: string[], env: NodeJS.ProcessEnv): Child {
  return new Child(
    fork(join(SUPPORT, module), args, { env, stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
}

/** Probes is every probed process's record of a run, merged, and the marks by process role. */
export interface Probes extends ProbeRecord {
  /** role (stage name, "fused", "floor") → mark name → stamps (each process's own order). */
  byRole: Record<string, Record<string, bigint[]>>;
  /** role → its process's wall clock minus CLOCK_MONOTONIC. */
  wallOffsets: Record<string, bigint>;
}

/** readProbes merges the records every probed process of a run wrote into `dir`. */
export function readProbes(dir: string): Probes {
  const all: Probes = {
    role: "all",
    wallOffsetNs: 0n,
    wallOffsets: {},
    frames: [],
    records: [],
    written: [],
    marks: {},
    book: [],
    indicators: [],
    inference: [],
    risk: [],
    byRole: {},
  };
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".json")) continue;
    const r = deserialize(readFileSync(join(dir, f), "utf8"));
    all.frames.push(...r.frames);
    all.records.push(...r.records);
    all.written.push(...r.written);
    all.book.push(...r.book);
    all.indicators.push(...r.indicators);
    all.inference.push(...r.inference);
    all.risk.push(...r.risk);
    all.wallOffsets[r.role] = r.wallOffsetNs;
    const own = all.byRole[r.role] ?? {};
    all.byRole[r.role] = own;
    for (const [name, stamps] of Object.entries(r.marks)) {
      all.marks[name] = [...(all.marks[name] ?? []), ...stamps];
      own[name] = [...(own[name] ?? []), ...stamps];
    }
  }
  return all;
}

export interface Tick {
  bid: string;
  ask: string;
  /** Whether this tick is expected to produce an order (it is measured closed-loop). */
  measured: boolean;
}

export interface DriveResult {
  fromNs: bigint;
  toNs: bigint;
  measured: number;
  orders: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * drive forces each tick's quote at the simulator. Before a measured tick it lets the pipeline
 * go idle, and after it waits (up to `timeoutMs`) for the simulator to receive an order, so each
 * measured order is caused by exactly one frame.
 */
export async function drive(
  sim: Child,
  symbol: string,
  ticks: readonly Tick[],
  opts: { settleMs: number; timeoutMs: number },
): Promise<DriveResult> {
  let orders = Number((await sim.request({ type: "orders" })).orders);
  const start = orders;
  let measured = 0;
  const fromNs = process.hrtime.bigint();
  for (const t of ticks) {
    if (t.measured) await sleep(opts.settleMs);
    await sim.request({ type: "quote", symbol, bid: t.bid, ask: t.ask });
    if (!t.measured) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    measured++;
    const deadline = Date.now() + opts.timeoutMs;
    while (Date.now() < deadline) {
      const n = Number((await sim.request({ type: "orders" })).orders);
      if (n > orders) {
        orders = n;
        break;
      }
    }
  }
  await sleep(opts.settleMs);
  return { fromNs, toNs: process.hrtime.bigint(), measured, orders: orders - start };
}
