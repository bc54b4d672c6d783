/**
 * bus.bench: what a message costs on the bus.
 *
 * 1. protobuf encode + decode per message type (ns/op), and the bus's own JavaScript per message;
 * 2. one-way latency per hop between two processes (ping-pong; each side stamps
 *    CLOCK_MONOTONIC, which processes on one host share) for ZmqBus over ipc:// and UdsBus over
 *    unix://, beside two floors measured in the same run: raw zeromq (ipc://, same socket
 *    options) sending the same bytes, and a raw length-prefixed Unix domain socket (node:net);
 *    with and without pinning each side to its own CPU;
 * 3. throughput of a one-way stream for the same variants.
 * Cases alternate round by round because the machine's speed drifts; compare ratios.
 * `npm run bench -- bus` runs it too; `runBusBench(options)` returns the figures.
 *
 * Usage: npx node test/bench/bus.bench.ts [--rounds 3] [--count 10000] [--stream 100000]
 *        [--pin both|on|off] [--variants uds-raw,zmq-raw,zmq-bus,uds-bus] [--json out.json]
 *        (also `zmq-curve`: the ZeroMQ bus with CURVE on, as pods run it; opt-in)
 *        [--pictures DIR|off]   (hop latency histograms, SVG + PNG; default test/bench/results)
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
import {
  ALL_VARIANTS,
  BUS_FRAME_OVERHEAD,
  VARIANTS,
  type Variant,
} from "./support/bus-transports.ts";

function parseVariants(text: string): Variant[] {
  const list = text.split(",").map((v) => v.trim());
  const bad = list.filter((v) => !ALL_VARIANTS.includes(v as Variant));
  if (bad.length > 0)
    throw new Error(`--variants: unknown ${bad.join(", ")} (known: ${ALL_VARIANTS.join(", ")})`);
  return list as Variant[];
}

import { slug, writeLatencyPictures } from "./support/latency-pictures.ts";

const PEER = fileURLToPath(new URL("./support/bus-peer.ts", import.meta.url));

export interface BusBenchOptions {
  rounds?: number;
  count?: number;
  stream?: number;
  /** Pin each side to its own CPU with taskset: "on", "off" or "both" (default, alternated). */
  pin?: "on" | "off" | "both";
  variants?: readonly Variant[];
  print?: (line: string) => void;
  /** Where the hop latency histograms go (default test/bench/results; "off": nowhere). */
  pictures?: string;
}

export interface BusBenchResult {
  /** Which pinning modes ran: [true] pinned, [false] not, [true, false] both, alternated. */
  pinModes: boolean[];
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
  const pinnable = canPin();
  const pin = options.pin ?? "both";
  const pinModes = !pinnable || pin === "off" ? [false] : pin === "on" ? [true] : [true, false];
  const variants = options.variants ?? VARIANTS;
  const print = options.print ?? ((line: string) => console.log(line));

  print(
    `# Bus benchmark (Node ${process.versions.node}, ${availableParallelism()} CPUs, ${pinModes.length > 1 ? "pinned (each side with taskset -c to its own CPU) and not, alternated" : pinModes[0] ? "each side pinned to its own CPU" : "not pinned"})\n`,
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

  // Each case is a variant with or without CPU pinning, all alternated within every round.
  const cases = pinModes.flatMap((pinned) => variants.map((variant) => ({ variant, pinned })));
  const label = (c: { variant: Variant; pinned: boolean }) =>
    pinModes.length > 1 ? `${c.variant}${c.pinned ? " pinned" : ""}` : c.variant;
  const floorOf = (c: { pinned: boolean }) =>
    pinModes.length > 1 ? `uds-raw${c.pinned ? " pinned" : ""}` : "uds-raw";
  const hops = new Map<string, number[]>();
  const rtts = new Map<string, number[]>();
  const usage = new Map<string, { cpu: number; switches: number }>();
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const key = label(c);
      const r = await runPair<PingResult>(c.variant, ["ponger", "pinger"], 1000, count, c.pinned);
      hops.set(key, [...(hops.get(key) ?? []), ...r.hop1Ns, ...r.hop2Ns]);
      rtts.set(key, [...(rtts.get(key) ?? []), ...r.rttNs]);
      const u = usage.get(key) ?? { cpu: 0, switches: 0 };
      usage.set(key, {
        cpu: u.cpu + r.cpuMicrosPerRoundTrip / rounds,
        switches: u.switches + r.switchesPerRoundTrip / rounds,
      });
    }
  }
  const latency: BusBenchResult["latency"] = {};
  for (const c of cases) {
    const key = label(c);
    latency[key] = {
      hop: summarize(hops.get(key)!),
      rtt: summarize(rtts.get(key)!),
      cpuMicrosPerRoundTrip: usage.get(key)!.cpu,
      switchesPerRoundTrip: usage.get(key)!.switches,
    };
  }
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
      cases.map((c) => {
        const { hop, rtt, cpuMicrosPerRoundTrip, switchesPerRoundTrip } = latency[label(c)]!;
        const floor = latency[floorOf(c)]?.hop.p50;
        return [
          label(c),
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

  const rates = new Map<string, number[]>();
  const received = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const r = await runPair<StreamResult>(c.variant, ["receiver", "sender"], 0, stream, c.pinned);
      rates.set(label(c), [...(rates.get(label(c)) ?? []), r.received / (r.elapsedNs / 1e9)]);
      received.set(label(c), Math.min(received.get(label(c)) ?? stream, r.received));
    }
  }
  const throughput: BusBenchResult["throughput"] = {};
  for (const c of cases) {
    const sorted = [...rates.get(label(c))!].sort((a, b) => a - b);
    throughput[label(c)] = {
      messagesPerSecond: sorted[Math.floor(sorted.length / 2)]!,
      received: received.get(label(c))!,
      sent: stream,
    };
  }
  print(
    `\n## Throughput, one-way stream of ${stream} messages (median of ${rounds} alternating rounds)\n`,
  );
  print(
    table(
      ["variant", "messages/s", "received", "× unix-socket"],
      cases.map((c) => {
        const t = throughput[label(c)]!;
        const floorRate = throughput[floorOf(c)]?.messagesPerSecond;
        return [
          label(c),
          Math.round(t.messagesPerSecond).toLocaleString("en-US"),
          String(t.received),
          floorRate ? (t.messagesPerSecond / floorRate).toFixed(2) : "-",
        ];
      }),
    ),
  );
  writeLatencyPictures(
    cases.map((c) => ({
      file: `bus-hop-${slug(label(c))}`,
      title: `Bus: one-way hop latency, ${label(c)}`,
      subtitle: `64-byte payload, ${rounds} rounds × ${count} round trips`,
      samplesNs: hops.get(label(c))!,
      ...latency[label(c)]!.hop,
    })),
    options.pictures,
    print,
  );
  return { pinModes, codecs, busCpu, latency, throughput };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      count: { type: "string" },
      stream: { type: "string" },
      pin: { type: "string" },
      json: { type: "string" },
      variants: { type: "string" },
      pictures: { type: "string" },
    },
  });
  const result = await runBusBench({
    ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
    ...(values.count ? { count: Number(values.count) } : {}),
    ...(values.stream ? { stream: Number(values.stream) } : {}),
    ...(values.variants ? { variants: parseVariants(values.variants) } : {}),
    ...(values.pin ? { pin: values.pin as "on" | "off" | "both" } : {}),
    ...(values.pictures ? { pictures: values.pictures } : {}),
  });
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}
