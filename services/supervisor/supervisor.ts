/**
 * Supervisor runs the stage processes of a local pipeline: it starts each child, restarts it
 * with backoff when it exits, gives up (and says why) when a child keeps crashing fast, and
 * stops them all cleanly. Children may send status objects over the IPC channel
 * (`process.send`); the latest one per child is kept for the status screen.
 */
import { type ChildProcess, fork } from "node:child_process";
import { EventEmitter } from "node:events";
import { closeSync, openSync } from "node:fs";
import {
  type ChildHistory,
  DEFAULT_RESTART_POLICY,
  decideRestart,
  type RestartPolicy,
} from "./restart-policy.ts";

export interface ChildSpec {
  name: string;
  /** Module to run with the same Node binary (process.execPath). */
  module: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Append the child's stdout and stderr to this file instead of sharing the parent's. */
  logFile?: string;
}

export interface ChildState {
  name: string;
  pid: number | undefined;
  running: boolean;
  restarts: number;
  startedAt: number;
  lastExit: string | undefined;
  status: Record<string, unknown> | undefined;
}

interface Entry {
  spec: ChildSpec;
  child: ChildProcess | undefined;
  history: ChildHistory;
  state: ChildState;
  timer: NodeJS.Timeout | undefined;
}

export interface SupervisorEvents {
  started: [name: string, pid: number];
  exited: [name: string, description: string];
  restarting: [name: string, delayMs: number];
  "gave-up": [name: string, reason: string];
  status: [name: string, status: Record<string, unknown>];
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #entries = new Map<string, Entry>();
  readonly #policy: RestartPolicy;
  #stopping = false;

  constructor(policy: RestartPolicy = DEFAULT_RESTART_POLICY) {
    super();
    this.#policy = policy;
  }

  start(spec: ChildSpec): void {
    const entry: Entry = {
      spec,
      child: undefined,
      history: { fastCrashes: 0, restarts: 0 },
      state: {
        name: spec.name,
        pid: undefined,
        running: false,
        restarts: 0,
        startedAt: 0,
        lastExit: undefined,
        status: undefined,
      },
      timer: undefined,
    };
    this.#entries.set(spec.name, entry);
    this.#spawn(entry);
  }

  states(): ChildState[] {
    return [...this.#entries.values()].map((e) => e.state);
  }

  pid(name: string): number | undefined {
    return this.#entries.get(name)?.child?.pid;
  }

  #spawn(entry: Entry): void {
    const { spec } = entry;
    const logFd = spec.logFile ? openSync(spec.logFile, "a", 0o600) : undefined;
    const out = logFd ?? "inherit";
    const child = fork(spec.module, spec.args, {
      env: spec.env ?? process.env,
      stdio: ["ignore", out, out, "ipc"],
      execPath: process.execPath,
    });
    // The child holds its own copy of the descriptor.
    if (logFd !== undefined) closeSync(logFd);
    entry.child = child;
    entry.state.pid = child.pid;
    entry.state.running = true;
    entry.state.startedAt = Date.now();
    entry.state.status = undefined;
    if (child.pid !== undefined) this.emit("started", spec.name, child.pid);
    child.on("message", (msg: unknown) => {
      if (msg && typeof msg === "object") {
        entry.state.status = msg as Record<string, unknown>;
        this.emit("status", spec.name, entry.state.status);
      }
    });
    child.on("exit", (code, signal) => {
      const ranForMs = Date.now() - entry.state.startedAt;
      const description = signal ? `killed by ${signal}` : `exited with code ${code}`;
      entry.child = undefined;
      entry.state.running = false;
      entry.state.lastExit = description;
      this.emit("exited", spec.name, description);
      if (this.#stopping) return;
      const decision = decideRestart(entry.history, ranForMs, this.#policy);
      entry.history = decision.history;
      if (decision.action === "give-up") {
        this.emit("gave-up", spec.name, decision.reason);
        return;
      }
      entry.state.restarts = decision.history.restarts;
      this.emit("restarting", spec.name, decision.delayMs);
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!this.#stopping) this.#spawn(entry);
      }, decision.delayMs);
    });
  }

  /** stop sends SIGTERM to every child, then SIGKILL to those still alive after graceMs. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopping = true;
    const waits: Promise<void>[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      const child = entry.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
          child.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill("SIGTERM");
        }),
      );
    }
    await Promise.all(waits);
  }
}
