/**
 * broker-sim.bench: how fast the simulator accepts and fills orders over real HTTP, and how many
 * market-data messages a second it delivers to one WebSocket subscriber — each beside a floor
 * measured in the same run (a bare node:http server answering a canned order; a bare ws server
 * sending pre-built frames of the same shape). Client and server share this process, as they
 * do for the floors, so compare the ratios.
 *
 * Usage: npx node test/bench/broker-sim.bench.ts [--orders 2000] [--rounds 3] [--concurrency 32]
 *        [--minutes 10]
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { decode, encode } from "@msgpack/msgpack";
import { Pool } from "undici";
import WebSocket, { WebSocketServer } from "ws";
import { startSimulator } from "../../services/broker-sim/index.ts";

const { values } = parseArgs({
  options: {
    orders: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    minutes: { type: "string", default: "10" },
  },
});
const ORDERS = Number(values.orders);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const SIM_MINUTES = Number(values.minutes);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function drive(base: string, headers: Record<string, string>, bodies: (i: number) => string) {
  const pool = new Pool(base, { connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ORDERS) {
        const i = next++;
        const t0 = performance.now();
        const r = await pool.request({
          path: "/v2/orders",
          method: "POST",
          headers,
          body: bodies(i),
        });
        await r.body.text();
        if (r.statusCode !== 200) errors++;
        lat.push(performance.now() - t0);
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  await pool.close();
  lat.sort((a, b) => a - b);
  return { rate: ORDERS / secs, p50: pct(lat, 50), p99: pct(lat, 99), errors };
}

const median = (xs: number[]): number =>
  xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Run = Awaited<ReturnType<typeof drive>>;

function summary(runs: Run[]): { rate: number; p50: number; p99: number; errors: number } {
  return {
    rate: median(runs.map((r) => r.rate)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

async function benchOrders(): Promise<void> {
  const sim = await startSimulator({
    seed: 1,
    clock: "manual",
    partialFillProbability: 0,
    rateLimitPerMin: 1e9,
    startingCash: "1000000000",
  });
  const headers = {
    "APCA-API-KEY-ID": sim.keys.keyId,
    "APCA-API-SECRET-KEY": sim.keys.secretKey,
    "Content-Type": "application/json",
  };
  const body = (i: number) =>
    JSON.stringify({
      symbol: "AAPL",
      qty: "1",
      side: i % 2 === 0 ? "buy" : "sell",
      type: "market",
      time_in_force: "day",
      client_order_id: `bench-${i}`,
    });
  let canned = "{}";
  const floor = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(canned),
      });
      res.end(canned);
    });
  });
  await new Promise<void>((r) => floor.listen(0, "127.0.0.1", r));
  const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}`;

  // Rounds alternate simulator and floor because this machine's speed drifts; medians reported.
  const simRuns: Run[] = [];
  const floorRuns: Run[] = [];
  let filled = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    sim.admin.reset(1); // client_order_ids restart at bench-0
    const s = await drive(sim.tradingUrl, headers, body);
    const state = sim.admin.state();
    canned = JSON.stringify(state.orders[0] ?? {});
    const f = await drive(floorUrl, headers, body);
    if (round === 0) continue; // warm-up
    filled += state.orders.filter((o) => o.status === "filled").length;
    simRuns.push(s);
    floorRuns.push(f);
  }
  await sim.close();
  await new Promise<void>((r) => floor.close(() => r()));
  const s = summary(simRuns);
  const f = summary(floorRuns);
  console.log(
    `orders over HTTP (${ROUNDS} rounds × ${ORDERS} market orders, ${CONCURRENCY} in flight, each accepted and filled; medians)`,
  );
  console.log(
    `  simulator        ${s.rate.toFixed(0).padStart(7)} orders/s   p50 ${s.p50.toFixed(2)} ms   p99 ${s.p99.toFixed(2)} ms   non-200: ${s.errors}   filled: ${filled}/${ROUNDS * ORDERS}`,
  );
  console.log(
    `  bare node:http   ${f.rate.toFixed(0).padStart(7)} req/s      p50 ${f.p50.toFixed(2)} ms   p99 ${f.p99.toFixed(2)} ms`,
  );
  console.log(`  simulator / floor: ${((100 * s.rate) / f.rate).toFixed(0)}%`);
}

interface Received {
  count: number;
  rate: number;
}

/**
 * receive counts data messages on one socket from the subscription reply until `onSubscribed`'s
 * expected count has arrived (or, as a guard, 5 s pass without a message).
 */
function receive(
  url: string,
  msgpack: boolean,
  onOpen: (ws: WebSocket) => void,
  onSubscribed: () => Promise<number>,
): Promise<Received> {
  const ws = new WebSocket(url, {
    headers: msgpack ? { "Content-Type": "application/msgpack" } : {},
  });
  let count = 0;
  let started = 0;
  let last = 0;
  let expected = Number.POSITIVE_INFINITY;
  return new Promise<Received>((resolve, reject) => {
    let quiet: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(quiet);
      ws.terminate();
      resolve({ count, rate: count / ((last - started) / 1000) });
    };
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, 5000);
    };
    ws.on("error", reject);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const frame = (msgpack && isBinary ? decode(data) : JSON.parse(data.toString("utf8"))) as {
        T: string;
      }[];
      if (frame[0]?.T === "subscription") {
        started = performance.now();
        arm();
        onSubscribed().then((n) => {
          expected = n;
          if (count >= expected) finish();
        }, reject);
        return;
      }
      for (const m of frame) if (m.T === "t" || m.T === "q" || m.T === "o" || m.T === "b") count++;
      last = performance.now();
      if (count >= expected) finish();
      else if (started) arm();
    });
    ws.on("open", () => onOpen(ws));
  });
}

async function simulatorFeed(msgpack: boolean): Promise<Received> {
  const sim = await startSimulator({ seed: 1, clock: "manual", startTime: "2026-03-02T15:00:00Z" });
  try {
    return await receive(
      `${sim.dataUrl}/v2/sip`,
      msgpack,
      (ws) => {
        const send = (m: unknown) => ws.send(msgpack ? Buffer.from(encode(m)) : JSON.stringify(m));
        send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
        send({ action: "subscribe", trades: ["*"], quotes: ["*"], bars: ["*"], orderbooks: ["*"] });
      },
      async () => {
        // One simulated second per event-loop turn, as the realtime clock would batch it.
        const before = sim.admin.state().stats.market_events;
        for (let i = 0; i < SIM_MINUTES * 60; i++) {
          sim.admin.advance(1000);
          await new Promise((res) => setImmediate(res));
        }
        return sim.admin.state().stats.market_events - before;
      },
    );
  } finally {
    await sim.close();
  }
}

async function benchMarketData(): Promise<void> {
  const runs: Record<"json" | "msgpack", Received[]> = { json: [], msgpack: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.json.push(await simulatorFeed(false));
    runs.msgpack.push(await simulatorFeed(true));
  }
  const results = (["json", "msgpack"] as const).map(
    (k) =>
      `  simulator ${k === "json" ? "JSON   " : "msgpack"}  ${median(runs[k].map((r) => r.rate))
        .toFixed(0)
        .padStart(8)} msgs/s   (${runs[k][0]!.count} messages a round)`,
  );
  // Floor: a bare ws server sending pre-built quote arrays, 250 per frame (the simulator's
  // batch size at these settings is about that).
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
  await new Promise((res) => wss.once("listening", res));
  const port = (wss.address() as AddressInfo).port;
  const quote = {
    T: "q",
    S: "AAPL",
    bx: "V",
    bp: 189.99,
    bs: 3,
    ax: "Q",
    ap: 190.01,
    as: 4,
    c: ["R"],
    t: "2026-03-02T15:00:00.123456789Z",
    z: "C",
  };
  const TOTAL = 300_000;
  const BATCH = 250;
  wss.on("connection", (ws) => {
    ws.send(JSON.stringify([{ T: "subscription" }]));
  });
  const f = await receive(
    `ws://127.0.0.1:${port}`,
    false,
    () => {},
    async () => {
      const [ws] = [...wss.clients];
      for (let i = 0; i < TOTAL / BATCH; i++) {
        ws!.send(JSON.stringify(Array.from({ length: BATCH }, () => quote)));
        if (i % 4 === 3) await new Promise((res) => setImmediate(res));
      }
      return TOTAL;
    },
  );
  wss.close();
  console.log(
    `market data to one WebSocket subscriber (all symbols: trades, quotes, bars, L2 book; ${SIM_MINUTES} simulated minutes; medians of ${ROUNDS})`,
  );
  for (const line of results) console.log(line);
  console.log(
    `  bare ws floor      ${f.rate.toFixed(0).padStart(8)} msgs/s   (pre-built JSON, encoded per frame, ${BATCH} per frame)`,
  );
}

await benchOrders();
await benchMarketData();
