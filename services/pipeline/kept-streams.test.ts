/**
 * kept-streams against the real simulator: one trade_updates and one market-data connection for
 * the process however many terms attach; trade updates that arrive while no term is attached are
 * handed, in order and after onReady, to the next one; market data is not kept for anyone.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Credentials } from "../alpaca-client/credentials.ts";
import type { WireTradeUpdate } from "../alpaca-client/index.ts";
import { startSimulator } from "../broker-sim/index.ts";
import { simulatorEndpoints } from "./broker-connection.ts";
import { createKeptStreams } from "./kept-streams.ts";

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a second term gets the same connections and the trade updates it missed", async () => {
  const sim = await startSimulator({ seed: 5, symbols: ["AAPL"], clock: "manual" });
  const streams = createKeptStreams();
  try {
    const cfg = {
      endpoints: simulatorEndpoints(sim.tradingUrl),
      credentials: new Credentials(sim.keys.keyId, sim.keys.secretKey, "test"),
    };
    const first: string[] = [];
    const term1 = streams.tradeUpdates(cfg, {
      onTradeUpdate: (u) => first.push(u.event),
      onReady: () => first.push("ready"),
    });
    term1.start();
    let quotes1 = 0;
    const md1 = streams.marketData(cfg, {
      onRecord: () => quotes1++,
      onReady: () => {},
    });
    md1.subscribe({ quotes: ["AAPL"] });
    md1.start();
    await until("both streams live", () => first.includes("ready") && md1.state === "ready");
    await term1.close();
    await md1.close();

    // No term attached: an order fills, quotes move.
    const post = await fetch(`${sim.tradingUrl}/v2/orders`, {
      method: "POST",
      headers: {
        "APCA-API-KEY-ID": sim.keys.keyId,
        "APCA-API-SECRET-KEY": sim.keys.secretKey,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        symbol: "AAPL",
        qty: "3",
        side: "buy",
        type: "market",
        time_in_force: "day",
      }),
    });
    assert.equal(post.status, 200);
    await post.body?.cancel();
    for (let i = 0; i < 10; i++) sim.admin.setQuote("AAPL", "100.00", "100.02");
    await until(
      "the fill at the simulator",
      () => (sim.admin.state() as { fills: unknown[] }).fills.length > 0,
    );
    // Give the stream time to carry the events to the keeper (their arrival is what is tested).
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(first, ["ready"], "the detached term saw nothing");
    assert.equal(quotes1, 0);

    const second: string[] = [];
    const updates: WireTradeUpdate[] = [];
    const term2 = streams.tradeUpdates(cfg, {
      onTradeUpdate: (u) => {
        second.push(u.event);
        updates.push(u);
      },
      onReady: ({ reconnected }) => second.push(reconnected ? "reconnected" : "ready"),
    });
    term2.start();
    await until("the missed fill handed over", () => second.includes("fill"));
    assert.equal(second[0], "ready", "onReady first, as after a connect");
    assert.deepEqual(second.slice(1), ["new", "fill"]);
    assert.equal(updates.at(-1)?.order?.qty, "3");
    const counts = sim.admin.state().streams.opened;
    assert.deepEqual(counts, { trade: 1, data: 1 }, "no connection opened again");
    assert.equal(streams.droppedTradeUpdates(), 0);
    await term2.close();
  } finally {
    await streams.close();
    await sim.close();
  }
});
