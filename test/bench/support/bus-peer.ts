/**
 * bus-peer: one side of a bus benchmark run in its own process (optionally pinned to a CPU by
 * the caller). argv[2] is a JSON PeerTask; the result goes back over the IPC channel.
 *
 * Payload layout (64 bytes): [0] u64 send time (CLOCK_MONOTONIC ns), [8] u64 the echo side's
 * receive time, [16] u32 message id (PROBE while waiting for the link to come up).
 */
import { type LinkPlan, openLink } from "./bus-transports.ts";

export interface PeerTask {
  role: "pinger" | "ponger" | "sender" | "receiver";
  plan: LinkPlan;
  warmup: number;
  count: number;
}

export interface PingResult {
  rttNs: number[];
  hop1Ns: number[];
  hop2Ns: number[];
  /** The pinger process's CPU time (all threads) per measured round trip, µs. */
  cpuMicrosPerRoundTrip: number;
  /** The pinger process's context switches (voluntary + involuntary) per measured round trip. */
  switchesPerRoundTrip: number;
}

export interface StreamResult {
  received: number;
  elapsedNs: number;
}

const PROBE = 0xffff_ffff;
const PAYLOAD = 64;
const task = JSON.parse(process.argv[2]!) as PeerTask;
const now = () => process.hrtime.bigint();
const side = task.role === "ponger" || task.role === "receiver" ? "listen" : "dial";
const link = await openLink(task.plan, side);

function message(id: number): Buffer {
  const b = Buffer.alloc(PAYLOAD);
  b.writeUInt32LE(id, 16);
  b.writeBigUInt64LE(now(), 0);
  return b;
}

/** linkUp probes until the echo side answers, then lets stray probes drain. */
async function linkUp(isUp: () => boolean): Promise<void> {
  const timer = setInterval(() => link.send(message(PROBE)), 10);
  while (!isUp()) await new Promise((r) => setTimeout(r, 5));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 100));
}

async function finish(result: unknown): Promise<void> {
  process.send!(result, () => {
    void link.close().then(() => process.exit(0));
  });
}

if (task.role === "ponger" || task.role === "receiver") {
  let received = 0;
  let firstSentNs = 0n;
  link.onMessage((payload) => {
    const id = payload.readUInt32LE(16);
    if (task.role === "ponger" || id === PROBE) {
      const echo = Buffer.from(payload.subarray(0, PAYLOAD));
      echo.writeBigUInt64LE(now(), 8);
      link.send(echo);
      return;
    }
    if (received === 0) firstSentNs = payload.readBigUInt64LE(0);
    received++;
    if (id === task.count - 1 || received === task.count) {
      void finish({ received, elapsedNs: Number(now() - firstSentNs) } satisfies StreamResult);
    }
  });
  process.on("disconnect", () => void link.close().then(() => process.exit(0)));
} else if (task.role === "pinger") {
  let up = false;
  const total = task.warmup + task.count;
  const result: PingResult = {
    rttNs: [],
    hop1Ns: [],
    hop2Ns: [],
    cpuMicrosPerRoundTrip: 0,
    switchesPerRoundTrip: 0,
  };
  let usageAtStart: NodeJS.ResourceUsage | undefined;
  let next = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  link.onMessage((payload) => {
    const t2 = now();
    const id = payload.readUInt32LE(16);
    if (id === PROBE) {
      up = true;
      return;
    }
    if (id !== next) return;
    if (id === task.warmup) usageAtStart = process.resourceUsage();
    if (id >= task.warmup) {
      const t0 = payload.readBigUInt64LE(0);
      const t1 = payload.readBigUInt64LE(8);
      result.rttNs.push(Number(t2 - t0));
      result.hop1Ns.push(Number(t1 - t0));
      result.hop2Ns.push(Number(t2 - t1));
    }
    next++;
    if (next === total) done();
    else link.send(message(next));
  });
  await linkUp(() => up);
  link.send(message(0));
  await finished;
  const end = process.resourceUsage();
  const start = usageAtStart!;
  const cpu = end.userCPUTime + end.systemCPUTime - start.userCPUTime - start.systemCPUTime;
  const switches =
    end.voluntaryContextSwitches +
    end.involuntaryContextSwitches -
    start.voluntaryContextSwitches -
    start.involuntaryContextSwitches;
  result.cpuMicrosPerRoundTrip = cpu / task.count;
  result.switchesPerRoundTrip = switches / task.count;
  await finish(result);
} else {
  let up = false;
  link.onMessage((payload) => {
    if (payload.readUInt32LE(16) === PROBE) up = true;
  });
  await linkUp(() => up);
  // Batches keep the event loop turning so the transport's own I/O can run.
  for (let id = 0; id < task.count; id++) {
    link.send(message(id));
    if (id % 256 === 255) await new Promise((r) => setImmediate(r));
  }
  process.on("disconnect", () => void link.close().then(() => process.exit(0)));
}
