/**
 * Replay: a recorded NDJSON file (Alpaca's message shapes) drives quotes, trades and bars
 * instead of the synthetic model — streamed, served by the historical REST, and matched against.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { api, RawClient, waitFor } from "./support.ts";

let dir: string;
let file: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "broker-sim-replay-"));
  file = join(dir, "session.ndjson");
  const lines = [];
  for (let i = 0; i < 60; i++) {
    const t = new Date(Date.UTC(2025, 5, 24, 14, 0, i)).toISOString();
    const bid = (150 + i / 100).toFixed(2);
    const ask = (150.02 + i / 100).toFixed(2);
    lines.push(
      JSON.stringify({
        T: "q",
        S: "IBM",
        bx: "V",
        bp: Number(bid),
        bs: 2,
        ax: "Q",
        ap: Number(ask),
        as: 3,
        c: ["R"],
        t,
        z: "A",
      }),
    );
    lines.push(
      JSON.stringify({
        T: "t",
        S: "IBM",
        i: i + 1,
        x: "V",
        p: Number(ask),
        s: 100,
        c: ["@"],
        t,
        z: "A",
      }),
    );
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("a recording is streamed, served as history and matched against", async () => {
  const sim: Simulator = await startSimulator({
    replayFile: file,
    clock: "manual",
    partialFillProbability: 0,
  });
  try {
    const c = new RawClient(`${sim.dataUrl}/v2/iex`);
    await c.open();
    c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
    c.send({ action: "subscribe", trades: ["IBM"] });
    await waitFor(() => c.frames.length === 3, "subscribed");
    sim.admin.advance(30_500);
    await waitFor(
      () => c.frames.flat().filter((f) => (f as { T: string }).T === "t").length === 31,
      "31 replayed trades",
    );
    c.close();
    const call = api(sim.tradingUrl, sim.keys);
    const trades = (await call("GET", "/v2/stocks/IBM/trades")).body as {
      trades: { p: number; t: string }[];
    };
    assert.equal(trades.trades.length, 31);
    assert.equal(trades.trades[0]!.t, "2025-06-24T14:00:00Z");
    const order = (
      await call("POST", "/v2/orders", {
        symbol: "IBM",
        qty: "2",
        side: "buy",
        type: "market",
        time_in_force: "day",
      })
    ).body as {
      id: string;
    };
    const filled = (await call("GET", `/v2/orders/${order.id}`)).body as {
      filled_avg_price: string;
    };
    assert.equal(filled.filled_avg_price, "150.32");
  } finally {
    await sim.close();
  }
});

test("before its first recorded quote a replayed symbol cannot be traded", async () => {
  const sim = await startSimulator({ replayFile: file, clock: "manual" });
  try {
    const call = api(sim.tradingUrl, sim.keys);
    const r = await call("POST", "/v2/orders", {
      symbol: "IBM",
      qty: "1",
      side: "buy",
      type: "market",
      time_in_force: "day",
    });
    assert.deepEqual(
      [r.status, (r.body as { message: string }).message],
      [422, 'no quote for "IBM" yet'],
    );
    const assets = (await call("GET", "/v2/assets")).body as { symbol: string }[];
    assert.deepEqual(
      assets.map((a) => a.symbol),
      ["IBM"],
    );
  } finally {
    await sim.close();
  }
});

test("a malformed recording is refused at start with the line and the problem", async () => {
  const bad = join(dir, "bad.ndjson");
  writeFileSync(bad, '{"T":"q","S":"IBM","t":"2025-06-24T14:00:00Z","bp":"x"}\n');
  await assert.rejects(startSimulator({ replayFile: bad }), /line 1\.bp: expected a number/);
});
