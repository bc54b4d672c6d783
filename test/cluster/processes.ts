import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** ComponentRecord is what state.json keeps about one running component. */
export interface ComponentRecord {
  name: string;
  pid: number;
  binary: string;
  logFile: string;
}

/** Component is a started control-plane process and its log file. */
export interface Component extends ComponentRecord {
  /** child is absent when the component was started by another process (cluster:up). */
  child?: ChildProcess;
}

/**
 * startComponent starts binary with args, its stdout and stderr appended to logFile.
 * With detached, the process outlives this one (cluster:up) and is found again by pid.
 */
export function startComponent(
  name: string,
  binary: string,
  args: string[],
  logFile: string,
  detached: boolean,
): Component {
  const log = openSync(logFile, "a");
  try {
    const child = spawn(binary, args, { stdio: ["ignore", log, log], detached });
    if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`);
    if (detached) child.unref();
    return { name, pid: child.pid, binary, logFile, child };
  } finally {
    closeSync(log);
  }
}

/** isRunning tells whether pid is alive and still runs binary (pids are reused). */
export async function isRunning(component: ComponentRecord): Promise<boolean> {
  const child = (component as Component).child;
  if (child) return child.exitCode === null && child.signalCode === null;
  try {
    const cmdline = await readFile(`/proc/${component.pid}/cmdline`, "utf8");
    const stat = await readFile(`/proc/${component.pid}/stat`, "utf8");
    // A zombie has exited; only its parent's wait() is missing.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return cmdline.split("\0")[0] === component.binary && state !== "Z";
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** stopComponent sends SIGTERM, waits up to graceMs, then SIGKILL; resolves once it is gone. */
export async function stopComponent(component: ComponentRecord, graceMs = 10_000): Promise<void> {
  if (!(await isRunning(component))) return;
  signal(component.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isRunning(component))) return;
    await sleep(50);
  }
  signal(component.pid, "SIGKILL");
  while (await isRunning(component)) await sleep(50);
}

/** freePort asks the kernel for an unused loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** lastLines returns the tail of a log file, for error messages that point at the cause. */
export async function lastLines(file: string, count = 20): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    return text.trimEnd().split("\n").slice(-count).join("\n");
  } catch {
    return "(no log)";
  }
}
