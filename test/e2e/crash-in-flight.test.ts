/**
 * kill -9 of the execution-engine exactly inside an order's round trip: the broker has the
 * order, the engine dies before it hears the answer. The stage processes of `tradepipe run`
 * reach the simulator through a TCP proxy of this test that, when armed, lets the next
 * `POST /v2/orders` through, receives the simulator's answer (so the broker has accepted the
 * order) and withholds it; the test then kills the engine with SIGKILL. The supervisor restarts
 * it; the new engine must find that order at the broker by its client_order_id and take its
 * broker id and fills, never send it again. Three crashes, then the usual end-of-run checks
 * (nothing sent twice, every fill and position in Postgres, every order audited).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import type { Simulator } from "../../services/broker-sim/index.ts";
import { quiesceAndCheck, simState, startBusyRun, waitFor } from "./support.ts";

interface HeldOrder {
  clientOrderId: string;
}

/**
 * startHoldingProxy relays TCP to `target`; `holdNextOrder()` arms it: the next connection that
 * sends `POST /v2/orders` gets its request through, and the answer is received and withheld
 * (the connection then stays silent until it closes). Resolves with the order's client id.
 */
async function startHoldingProxy(target: URL) {
  let armed: ((held: HeldOrder) => void) | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let holding: ((held: HeldOrder) => void) | undefined;
    let request = "";
    let clientOrderId: string | undefined;
    client.on("data", (chunk) => {
      const text = chunk.toString("latin1");
      if (armed && holding === undefined && text.startsWith("POST /v2/orders HTTP")) {
        holding = armed;
        armed = undefined;
        request = "";
      }
      if (holding && clientOrderId === undefined) {
        request += text;
        clientOrderId = /"client_order_id"\s*:\s*"([^"]+)"/.exec(request)?.[1];
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (holding === undefined) {
        client.write(chunk);
        return;
      }
      // The simulator has answered: it has the order. The engine never hears it.
      if (clientOrderId !== undefined) holding({ clientOrderId });
      clientOrderId = "";
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    holdNextOrder: () =>
      new Promise<HeldOrder>((resolve) => {
        armed = resolve;
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test("kill -9 of the engine between the broker's acceptance and its answer: found by client_order_id, not re-sent", {
  timeout: 900_000,
}, async () => {
  let proxy: Awaited<ReturnType<typeof startHoldingProxy>> | undefined;
  const { sim, pool, handle, stop, run, close } = await startBusyRun(
    "crash-in-flight",
    async (sim) => {
      proxy = await startHoldingProxy(new URL(sim.tradingUrl));
      // The run sees the simulator at the proxy's address (every stage reaches it through there).
      return Object.create(sim, { tradingUrl: { value: proxy.url } }) as Simulator;
    },
  );
  const holding = proxy!;
  const allReady = () =>
    handle()!
      .status()
      .stages.every((s) => s.up && s.ready);
  try {
    const h = await waitFor("the pipeline to start", 60_000, handle);
    await waitFor("every stage ready", 180_000, allReady).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(h.status().stages)}`);
    });
    await waitFor("the first fill", 90_000, () => simState(sim).fills.length > 0);
    for (let crash = 1; crash <= 3; crash++) {
      const pid = h.pid("execution-engine");
      assert.ok(pid, "the engine has a process");
      const requestsBefore = simState(sim).order_requests.length;
      let timer: NodeJS.Timeout | undefined;
      const held = await Promise.race([
        holding.holdNextOrder(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const s = h.status();
            const more = simState(sim).order_requests.length - requestsBefore;
            reject(
              new Error(
                `no order POST within 180 s (crash ${crash}; ${more} order requests meanwhile): ${JSON.stringify({ ...s, positions: s.positions.length })}`,
              ),
            );
          }, 180_000);
        }),
      ]).finally(() => clearTimeout(timer));
      process.kill(pid, "SIGKILL");
      const id = held.clientOrderId;
      const requestsOf = () =>
        simState(sim).order_requests.filter((r) => r.client_order_id === id).length;
      assert.equal(requestsOf(), 1, `${id} reached the broker before the kill`);
      await waitFor(`the engine restarted (crash ${crash})`, 60_000, () => {
        const p = h.pid("execution-engine");
        return p !== undefined && p !== pid;
      });
      // The new engine resolves the order before it is ready: either it found the order at the
      // broker (its row has the broker's id) or it sent it again; only the first is right.
      await waitFor(`${id} found or sent again after crash ${crash}`, 120_000, async () => {
        if (requestsOf() > 1) return true;
        const r = await pool.query<{ b: string | null }>(
          "SELECT broker_order_id AS b FROM orders WHERE client_order_id = $1",
          [id],
        );
        return r.rows[0]?.b ? true : undefined;
      });
      assert.equal(requestsOf(), 1, `${id} was sent again after crash ${crash}`);
      await waitFor(`every stage ready after crash ${crash}`, 120_000, allReady);
    }
    await quiesceAndCheck({ pool, sim, handle: h, stop, run });
  } finally {
    await close();
    await holding.close();
  }
});
