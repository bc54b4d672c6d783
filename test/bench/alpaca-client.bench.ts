/**
 * alpaca-client.bench: what the Alpaca client adds on top of the wire.
 *
 * 1. REST: GET /v2/clock against the simulator (running in a child process, so it does not share
 *    this event loop), through the client (rate limiter opened wide, retries, diagnostics) and
 *    through a bare undici Pool with the same connection count. Serial latency p50/p99/p99.9 and
 *    throughput at 16 requests in flight. Variants alternate round by round.
 * 2. Market-data frames (no network): decode + dispatch of 10-quote frames, JSON and MessagePack,
 *    typed handlers (exact Fixed) vs `onRecord` only, beside a bare JSON.parse / msgpack decode.
 *
 * Usage: npx node test/bench/alpaca-client.bench.ts [--rounds 2] [--serial 2000] [--burst 5000]
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Decoder } from "@msgpack/msgpack";
import { Pool } from "undici";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import { createFrameDispatcher } from "../../services/alpaca-client/market-data-frames.ts";
import { AlpacaTradingClient } from "../../services/alpaca-client/trading-client.ts";
import { encodeFrame } from "../../services/broker-sim/ws/codec.ts";

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === "--sim-child") {
  const { startSimulator } = await import("../../services/broker-sim/index.ts");
  const sim = await startSimulator({ symbols: ["AAPL"], rateLimitPerMin: 1_000_000_000 });
  process.send?.({ url: sim.tradingUrl, keyId: sim.keys.keyId, secret: sim.keys.secretKey });
  process.on("disconnect", () => {
    void sim.close().then(() => process.exit(0));
  });
} else {
  await main();
}

interface SimInfo {
  url: string;
  keyId: string;
  secret: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "2" },
      serial: { type: "string", default: "2000" },
      burst: { type: "string", default: "5000" },
    },
  });
  const rounds = Number(values.rounds);
  const serialN = Number(values.serial);
  const burstN = Number(values.burst);

  const child = fork(SELF, ["--sim-child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const info = await new Promise<SimInfo>((resolve) =>
    child.once("message", (m) => resolve(m as SimInfo)),
  );
  try {
    await benchRest(info, rounds, serialN, burstN);
  } finally {
    child.disconnect();
  }
  benchFrames();
}

type Get = () => Promise<unknown>;

async function benchRest(info: SimInfo, rounds: number, serialN: number, burstN: number) {
  const client = new AlpacaTradingClient({
    tradingUrl: info.url,
    credentials: new Credentials(info.keyId, info.secret, "bench"),
    options: { rateLimitPerMinute: 1e9, rateLimitBurst: 1e6 },
  });
  const pool = new Pool(info.url, { connections: client.options.connections });
  const headers = { "APCA-API-KEY-ID": info.keyId, "APCA-API-SECRET-KEY": info.secret };
  const variants: Array<[string, Get]> = [
    [
      "bare undici Pool",
      async () => {
        const r = await pool.request({ method: "GET", path: "/v2/clock", headers });
        return JSON.parse(await r.body.text());
      },
    ],
    ["alpaca-client", () => client.getClock()],
  ];
  const lat = new Map<string, number[]>();
  const rate = new Map<string, number[]>();
  for (const [, get] of variants) for (let i = 0; i < 200; i++) await get(); // warm-up
  for (let round = 0; round < rounds; round++) {
    // Alternate which variant goes first: the machine's speed drifts within a round.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, get] of order) {
      const samples = lat.get(name) ?? [];
      for (let i = 0; i < serialN; i++) {
        const t0 = process.hrtime.bigint();
        await get();
        samples.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      lat.set(name, samples);
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next++ < burstN) await get();
        }),
      );
      const perSec = burstN / ((performance.now() - t0) / 1000);
      rate.set(name, [...(rate.get(name) ?? []), perSec]);
    }
  }
  console.log(`REST GET /v2/clock, simulator in a child process, ${rounds} rounds`);
  console.log("variant              p50 µs   p99 µs  p99.9 µs   req/s (16 in flight)");
  for (const [name] of variants) {
    const s = (lat.get(name) ?? []).sort((a, b) => a - b);
    const q = (p: number) => (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0).toFixed(0);
    const r = Math.max(...(rate.get(name) ?? [0])).toFixed(0);
    console.log(
      `${name.padEnd(20)} ${q(0.5).padStart(7)} ${q(0.99).padStart(8)} ${q(0.999).padStart(9)}   ${r.padStart(8)}`,
    );
  }
  await client.close();
  await pool.close();
}

function benchFrames(): void {
  const t0 = 1_772_461_800_000_000_000n;
  const frameOf = (k: number) =>
    Array.from({ length: 10 }, (_, i) => ({
      T: "q",
      S: "AAPL",
      bx: "V",
      bp: 187.12 + (i % 5) / 100,
      bs: 3 + i,
      ax: "Q",
      ap: 187.14 + (i % 5) / 100,
      as: 5,
      c: ["R"],
      t: t0 + BigInt(k * 10 + i) * 1000n,
      z: "C",
    }));
  const N = 20_000;
  const json = Array.from({ length: 64 }, (_, k) =>
    Buffer.from(encodeFrame(frameOf(k), "json") as string),
  );
  const mp = Array.from({ length: 64 }, (_, k) =>
    Buffer.from(encodeFrame(frameOf(k), "msgpack") as Uint8Array),
  );
  let sink = 0;
  const decoder = new Decoder();
  const best = new Map<string, number>();
  const run = (name: string, frames: Buffer[], fn: (b: Buffer) => void) => {
    for (let i = 0; i < 2_000; i++) fn(frames[i & 63] as Buffer);
    const start = performance.now();
    for (let i = 0; i < N; i++) fn(frames[i & 63] as Buffer);
    const nsPerMsg = ((performance.now() - start) * 1e6) / (N * 10);
    best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, nsPerMsg));
  };
  const typed = {
    onQuote: () => {
      sink++;
    },
  };
  const raw = {
    onRecord: () => {
      sink++;
    },
  };
  const noControl = () => {};
  const jsonRaw = createFrameDispatcher("json", raw, noControl);
  const jsonTyped = createFrameDispatcher("json", typed, noControl);
  const mpRaw = createFrameDispatcher("msgpack", raw, noControl);
  const mpTyped = createFrameDispatcher("msgpack", typed, noControl);
  const cases: Array<[string, Buffer[], (b: Buffer) => void]> = [
    [
      "baseline: JSON.parse only",
      json,
      (b) => {
        sink += (JSON.parse(b.toString("utf8")) as unknown[]).length;
      },
    ],
    ["json, onRecord only", json, (b) => jsonRaw(b, false)],
    ["json, onQuote (Fixed, ns)", json, (b) => jsonTyped(b, false)],
    [
      "baseline: msgpack decode only",
      mp,
      (b) => {
        sink += (decoder.decode(b) as unknown[]).length;
      },
    ],
    ["msgpack, onRecord only", mp, (b) => mpRaw(b, true)],
    ["msgpack, onQuote (Fixed, ns)", mp, (b) => mpTyped(b, true)],
  ];
  for (let round = 0; round < 3; round++)
    for (const [name, frames, fn] of cases) run(name, frames, fn);
  console.log(
    "\nmarket-data frames of 10 quotes, decode + dispatch (one core, no network; best of 3)",
  );
  for (const [name] of cases) {
    const ns = best.get(name) ?? 0;
    console.log(
      `${name.padEnd(34)} ${(1e3 / ns).toFixed(2).padStart(6)} M msgs/s ${ns.toFixed(0).padStart(6)} ns/msg`,
    );
  }
  if (sink === 0) console.log("(no messages dispatched)");
}
