/**
 * bus.bench: what a message costs on the bus.
 *
 * 1. protobuf encode + decode per message type (ns/op), and the bus's own JavaScript per message;
 * 2. one-way latency per hop between two processes over ipc:// (ping-pong; each side stamps
 *    CLOCK_MONOTONIC, which both processes share), for the bus and two floors measured in the
 *    same run: raw zeromq sending the same bytes and a raw Unix domain socket;
 * 3. throughput of a one-way stream for the same variants.
 * Variants alternate round by round because the machine's speed drifts; compare ratios.
 *
 * Usage: npx node test/bench/bus.bench.ts [--rounds 3] [--count 10000] [--stream 100000]
 *        [--no-pin] [--json out.json]
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchBusCpu, benchCodecs } from "./support/bus-codec-bench.ts";
import type { PeerTask, PingResult, StreamResult } from "./support/bus-peer.ts";
import { summarize, table, us } from "./support/bus-stats.ts";
import { BUS_FRAME_OVERHEAD, VARIANTS, type Variant } from "./support/bus-transports.ts";

const PEER = fileURLToPath(new URL("./support/bus-peer.ts", import.meta.url));

export interface BusBenchOptions {
  rounds?: number;
  count?: number;
  stream?: number;
  pin?: boolean;
  variants?: readonly Variant[];
  print?: (line: string) => void;
}

export interface BusBenchResult {
  pinned: boolean;
  codecs: ReturnType<typeof benchCodecs>;
  busCpu: ReturnType<typeof benchBusCpu>;
  latency: Record<
    string,
    {
      hop: ReturnType<typeof summarize>;
      rtt: ReturnType<typeof summarize>;
      cpuMicrosPerRoundTrip: number;
      switchesPerRoundTrip: number;
    }
  >;
  throughput: Record<string, { messagesPerSecond: number; received: number; sent: number }>;
}

function canPin(): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function spawnPeer(task: PeerTask, cpu: number | undefined): ChildProcess {
  const stdio: ["ignore", "inherit", "inherit", "ipc"] = ["ignore", "inherit", "inherit", "ipc"];
  if (cpu === undefined) return fork(PEER, [JSON.stringify(task)], { stdio });
  // taskset runs Node on one CPU; its threads (JS and ZMQbg/IO) inherit the affinity.
  return fork(PEER, [JSON.stringify(task)], {
    execPath: "taskset",
    execArgv: ["-c", String(cpu), process.execPath, ...process.execArgv],
    stdio,
  });
}

async function runPair<T>(
  variant: Variant,
  roles: [PeerTask["role"], PeerTask["role"]],
  warmup: number,
  count: number,
  pin: boolean,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "tradepipe-bus-bench-"));
  const a = join(dir, "a.sock");
  const b = join(dir, "b.sock");
  const listener = spawnPeer(
    {
      role: roles[0],
      plan: { variant, own: a, peer: b, frameOverhead: BUS_FRAME_OVERHEAD },
      warmup,
      count,
    },
    pin ? 1 : undefined,
  );
  const dialer = spawnPeer(
    {
      role: roles[1],
      plan: { variant, own: b, peer: a, frameOverhead: BUS_FRAME_OVERHEAD },
      warmup,
      count,
    },
    pin ? 0 : undefined,
  );
  const resultFrom = roles[0] === "receiver" ? listener : dialer;
  try {
    return await new Promise<T>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${variant}: no result within 120 s`)),
        120_000,
      );
      resultFrom.once("message", (m) => {
        clearTimeout(timer);
        resolvePromise(m as T);
      });
      for (const child of [listener, dialer]) {
        child.once("exit", (code) => {
          if (code !== 0 && code !== null)
            reject(new Error(`${variant}: a peer exited with ${code}`));
        });
      }
    });
  } finally {
    for (const child of [listener, dialer]) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

/** runBusBench runs the whole benchmark and prints its tables; returns the figures. */
export async function runBusBench(options: BusBenchOptions = {}): Promise<BusBenchResult> {
  const rounds = options.rounds ?? 3;
  const count = options.count ?? 10_000;
  const stream = options.stream ?? 100_000;
  const pin = (options.pin ?? true) && canPin();
  const variants = options.variants ?? VARIANTS;
  const print = options.print ?? ((line: string) => console.log(line));

  print(
    `# Bus benchmark (Node ${process.versions.node}, ${availableParallelism()} CPUs, ${pin ? "each side pinned to its own CPU" : "not pinned"})\n`,
  );

  const codecs = benchCodecs(200_000);
  print("## Protobuf encode + decode (in-process)\n");
  print(
    table(
      ["message", "bytes", "encode ns/op", "decode ns/op", "encode+decode ns/op"],
      codecs.map((r) => [
        r.type,
        String(r.bytes),
        r.encodeNs.toFixed(0),
        r.decodeNs.toFixed(0),
        (r.encodeNs + r.decodeNs).toFixed(0),
      ]),
    ),
  );
  const busCpu = benchBusCpu(500_000);
  print("\n## The bus's own JavaScript per message (no transport)\n");
  print(
    table(
      ["work", "ns/op"],
      busCpu.map((r) => [r.what, r.ns.toFixed(0)]),
    ),
  );

  const hops = new Map<Variant, number[]>();
  const rtts = new Map<Variant, number[]>();
  const usage = new Map<Variant, { cpu: number; switches: number }>();
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const r = await runPair<PingResult>(variant, ["ponger", "pinger"], 1000, count, pin);
      hops.set(variant, [...(hops.get(variant) ?? []), ...r.hop1Ns, ...r.hop2Ns]);
      rtts.set(variant, [...(rtts.get(variant) ?? []), ...r.rttNs]);
      const u = usage.get(variant) ?? { cpu: 0, switches: 0 };
      usage.set(variant, {
        cpu: u.cpu + r.cpuMicrosPerRoundTrip / rounds,
        switches: u.switches + r.switchesPerRoundTrip / rounds,
      });
    }
  }
  const latency: BusBenchResult["latency"] = {};
  for (const v of variants) {
    latency[v] = {
      hop: summarize(hops.get(v)!),
      rtt: summarize(rtts.get(v)!),
      cpuMicrosPerRoundTrip: usage.get(v)!.cpu,
      switchesPerRoundTrip: usage.get(v)!.switches,
    };
  }
  const floor = latency["uds-raw"]?.hop.p50;
  print(
    `\n## One-way latency per hop between two processes (64-byte payload + ${BUS_FRAME_OVERHEAD} bytes of frame; ${rounds} alternating rounds × ${count} round trips)\n`,
  );
  print(
    table(
      [
        "variant",
        "hop p50 µs",
        "hop p99 µs",
        "hop p99.9 µs",
        "rtt p50 µs",
        "× unix-socket p50",
        "CPU µs/rtt (pinger)",
        "ctx switches/rtt (pinger)",
      ],
      variants.map((v) => {
        const { hop, rtt, cpuMicrosPerRoundTrip, switchesPerRoundTrip } = latency[v]!;
        return [
          v,
          us(hop.p50),
          us(hop.p99),
          us(hop.p999),
          us(rtt.p50),
          floor ? (hop.p50 / floor).toFixed(2) : "-",
          cpuMicrosPerRoundTrip.toFixed(1),
          switchesPerRoundTrip.toFixed(2),
        ];
      }),
    ),
  );

  const throughput: BusBenchResult["throughput"] = {};
  for (const variant of variants) {
    const r = await runPair<StreamResult>(variant, ["receiver", "sender"], 0, stream, pin);
    throughput[variant] = {
      messagesPerSecond: r.received / (r.elapsedNs / 1e9),
      received: r.received,
      sent: stream,
    };
  }
  const floorRate = throughput["uds-raw"]?.messagesPerSecond;
  print(`\n## Throughput, one-way stream of ${stream} messages\n`);
  print(
    table(
      ["variant", "messages/s", "received", "× unix-socket"],
      variants.map((v) => {
        const t = throughput[v]!;
        return [
          v,
          Math.round(t.messagesPerSecond).toLocaleString("en-US"),
          String(t.received),
          floorRate ? (t.messagesPerSecond / floorRate).toFixed(2) : "-",
        ];
      }),
    ),
  );
  return { pinned: pin, codecs, busCpu, latency, throughput };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      count: { type: "string" },
      stream: { type: "string" },
      "no-pin": { type: "boolean" },
      json: { type: "string" },
      variants: { type: "string" },
    },
  });
  const result = await runBusBench({
    ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
    ...(values.count ? { count: Number(values.count) } : {}),
    ...(values.stream ? { stream: Number(values.stream) } : {}),
    ...(values.variants ? { variants: values.variants.split(",") as Variant[] } : {}),
    pin: !values["no-pin"],
  });
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}
