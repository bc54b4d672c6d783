/**
 * The paper account outlives the simulator (stateFile), as Alpaca's paper account outlives a
 * session: cash, positions, realized P&L, orders, fills and client_order_id uniqueness come
 * back after a close and a restart; the market starts again from its seed; day orders of an
 * earlier session expire at the next start; a bad file is refused, never silently replaced.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { type SimulatorOptions, startSimulator } from "../../services/broker-sim/index.ts";
import { readAccountFile } from "../../services/broker-sim/shell/account-store.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { api, waitFor } from "./support.ts";

type Order = { id: string; client_order_id: string; status: string; expired_at: string | null };
type Position = { symbol: string; qty: string; avg_entry_price: string; market_value: string };

const T0 = "2026-03-02T15:00:00Z";
const base: SimulatorOptions = {
  seed: 5,
  clock: "manual",
  partialFillProbability: 0,
  symbols: ["AAPL", "MSFT"],
  // A quiet market: these tests set the quotes they trade on.
  market: { quoteRatePerSec: 1, tradeRatePerSec: 0.5 },
};

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tp-sim-state-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function withSim<T>(
  options: SimulatorOptions,
  body: (
    sim: Awaited<ReturnType<typeof startSimulator>>,
    call: ReturnType<typeof api>,
  ) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator(options);
  try {
    return await body(sim, api(sim.tradingUrl, sim.keys));
  } finally {
    await sim.close();
  }
}

const order = (fields: Record<string, string>) => ({
  type: "market",
  time_in_force: "day",
  ...fields,
});

test("cash, positions, P&L, orders, fills and client_order_id uniqueness survive a restart", async (t) => {
  const stateFile = join(await tempDir(t), "account.json");
  const before = await withSim({ ...base, startTime: T0, stateFile }, async (sim, call) => {
    assert.equal(sim.account?.restored, false);
    sim.admin.setQuote("AAPL", "190", "190.02");
    const buy = await call(
      "POST",
      "/v2/orders",
      order({ symbol: "AAPL", qty: "10", side: "buy", client_order_id: "a1" }),
    );
    assert.equal(buy.status, 200, buy.text);
    sim.admin.setQuote("AAPL", "191", "191.02");
    const sell = await call(
      "POST",
      "/v2/orders",
      order({ symbol: "AAPL", qty: "4", side: "sell", client_order_id: "a2" }),
    );
    assert.equal(sell.status, 200, sell.text);
    sim.admin.setQuote("MSFT", "410", "410.02");
    const gtc = await call("POST", "/v2/orders", {
      ...order({ symbol: "MSFT", qty: "2", side: "buy", client_order_id: "g1" }),
      type: "limit",
      limit_price: "400",
      time_in_force: "gtc",
    });
    assert.equal(gtc.status, 200, gtc.text);
    sim.admin.advance(1000);
    const state = sim.admin.state();
    return {
      cash: (state.account as { cash: string }).cash,
      realized: state.realized_pl,
      fills: state.fills,
      requests: state.order_requests,
      orders: ((await call("GET", "/v2/orders?status=all&direction=asc")).body as Order[]).map(
        (o) => [o.id, o.client_order_id, o.status],
      ),
    };
  });
  assert.equal(before.realized, "3.92"); // (191 − 190.02) × 4
  assert.deepEqual(
    before.orders.map(([, c, s]) => [c, s]),
    [
      ["a1", "filled"],
      ["a2", "filled"],
      ["g1", "new"],
    ],
  );

  // Another seed: the market is new, the account is the same.
  await withSim(
    { ...base, seed: 99, startTime: "2026-03-02T16:00:00Z", stateFile },
    async (sim, call) => {
      assert.equal(sim.account?.restored, true);
      assert.equal(sim.account?.positions, 1);
      assert.equal(sim.account?.openOrders, 1);
      const account = (await call("GET", "/v2/account")).body as { cash: string };
      assert.equal(account.cash, before.cash);
      const state = sim.admin.state();
      assert.equal(state.realized_pl, before.realized);
      assert.deepEqual(state.fills, before.fills);
      assert.deepEqual(state.order_requests, before.requests);
      const orders = (await call("GET", "/v2/orders?status=all&direction=asc")).body as Order[];
      assert.deepEqual(
        orders.map((o) => [o.id, o.client_order_id, o.status]),
        before.orders,
      );

      // Positions are marked at the new market's prices.
      sim.admin.setQuote("AAPL", "200", "200.02");
      const [pos] = (await call("GET", "/v2/positions")).body as Position[];
      assert.deepEqual(
        [pos?.symbol, pos?.qty, pos?.avg_entry_price, pos?.market_value],
        ["AAPL", "6", "190.02", "1200.06"],
      );

      // client_order_id stays unique account-wide, and new ids never repeat old ones.
      const dup = await call(
        "POST",
        "/v2/orders",
        order({ symbol: "AAPL", qty: "1", side: "buy", client_order_id: "a1" }),
      );
      assert.equal(dup.status, 422);
      assert.deepEqual(dup.body, { code: 40010001, message: "client_order_id must be unique" });
      const fresh = await call(
        "POST",
        "/v2/orders",
        order({ symbol: "AAPL", qty: "1", side: "sell" }),
      );
      assert.equal(fresh.status, 200, fresh.text);
      const freshOrder = fresh.body as Order;
      assert.ok(
        !before.orders.some(([id, c]) => id === freshOrder.id || c === freshOrder.client_order_id),
      );

      // The GTC order from the first run is live and fills against the new market.
      sim.admin.setQuote("MSFT", "399.98", "400");
      const g1 = (await call("GET", "/v2/orders:by_client_order_id?client_order_id=g1"))
        .body as Order;
      assert.equal(g1.status, "filled");
    },
  );

  // What the second run did is in the file too.
  const saved = readAccountFile(stateFile);
  assert.deepEqual(
    saved?.positions.map((p) => [p.symbol, p.qty]),
    [
      ["AAPL", 5_000_000_000n],
      ["MSFT", 2_000_000_000n],
    ],
  );
  assert.equal(saved?.orders.length, 4);
});

test("a day order expires at the start of the next session; a GTC order stays live", async (t) => {
  const stateFile = join(await tempDir(t), "account.json");
  const limit = (client: string, tif: string) => ({
    ...order({ symbol: "AAPL", qty: "1", side: "buy", client_order_id: client }),
    type: "limit",
    limit_price: "100",
    time_in_force: tif,
  });
  await withSim({ ...base, startTime: T0, stateFile }, async (sim, call) => {
    sim.admin.setQuote("AAPL", "190", "190.02");
    assert.equal((await call("POST", "/v2/orders", limit("day1", "day"))).status, 200);
    assert.equal((await call("POST", "/v2/orders", limit("gtc1", "gtc"))).status, 200);
  });
  // The market is always open here, so each run is a session: the day order ends with it.
  const restart = "2026-03-02T15:30:00Z";
  await withSim({ ...base, startTime: restart, stateFile }, async (sim, call) => {
    assert.equal(sim.account?.expiredAtStart, 1);
    const get = async (c: string) =>
      (await call("GET", `/v2/orders:by_client_order_id?client_order_id=${c}`)).body as Order;
    const day = await get("day1");
    assert.equal(day.status, "expired");
    assert.equal(day.expired_at, restart);
    assert.equal((await get("gtc1")).status, "new");
    const open = (await call("GET", "/v2/orders")).body as Order[];
    assert.deepEqual(
      open.map((o) => o.client_order_id),
      ["gtc1"],
    );
  });
});

test("with market hours, a day order outlives a restart within its session but not its close", async (t) => {
  const stateFile = join(await tempDir(t), "account.json");
  // Monday 2026-03-09, 10:00 New York (EDT, UTC−4): the session closes at 20:00Z.
  const hours = { ...base, marketAlwaysOpen: false, stateFile };
  await withSim({ ...hours, startTime: "2026-03-09T14:00:00Z" }, async (sim, call) => {
    sim.admin.setQuote("AAPL", "190", "190.02");
    const r = await call("POST", "/v2/orders", {
      ...order({ symbol: "AAPL", qty: "1", side: "buy", client_order_id: "d1" }),
      type: "limit",
      limit_price: "100",
    });
    assert.equal(r.status, 200, r.text);
  });
  const status = (call: ReturnType<typeof api>) =>
    call("GET", "/v2/orders:by_client_order_id?client_order_id=d1").then(
      (r) => (r.body as Order).status,
    );
  await withSim({ ...hours, startTime: "2026-03-09T15:00:00Z" }, async (_sim, call) => {
    assert.equal(await status(call), "new");
  });
  await withSim({ ...hours, startTime: "2026-03-10T14:00:00Z" }, async (_sim, call) => {
    assert.equal(await status(call), "expired");
  });
});

test("the account is saved shortly after a change, without waiting for close", async (t) => {
  const stateFile = join(await tempDir(t), "account.json");
  await withSim({ ...base, startTime: T0, stateFile }, async (sim, call) => {
    sim.admin.setQuote("AAPL", "190", "190.02");
    const r = await call(
      "POST",
      "/v2/orders",
      order({ symbol: "AAPL", qty: "3", side: "buy", client_order_id: "s1" }),
    );
    assert.equal(r.status, 200, r.text);
    let saved: ReturnType<typeof readAccountFile>;
    await waitFor(
      () => {
        saved = readAccountFile(stateFile);
        return saved?.orders.some((o) => o.clientOrderId === "s1") ?? false;
      },
      "the order in the state file",
      5000,
    );
    assert.equal(saved!.positions[0]?.qty, 3_000_000_000n);
    // The account is the user's alone.
    assert.equal((await stat(stateFile)).mode & 0o777, 0o600);
  });
});

test("the same flow against the same saved account gives the same ids", async (t) => {
  const dir = await tempDir(t);
  const first = join(dir, "a.json");
  await withSim({ ...base, startTime: T0, stateFile: first }, async (sim, call) => {
    sim.admin.setQuote("AAPL", "190", "190.02");
    await call("POST", "/v2/orders", order({ symbol: "AAPL", qty: "1", side: "buy" }));
  });
  const copy = join(dir, "b.json");
  await copyFile(first, copy);
  const next = (stateFile: string) =>
    withSim({ ...base, startTime: "2026-03-02T16:00:00Z", stateFile }, async (sim, call) => {
      sim.admin.setQuote("AAPL", "190", "190.02");
      const o = (await call("POST", "/v2/orders", order({ symbol: "AAPL", qty: "1", side: "buy" })))
        .body as Order;
      return [o.id, o.client_order_id, sim.admin.state().fills.at(-1)?.execution_id];
    });
  assert.deepEqual(await next(first), await next(copy));
});

test("a bad state file is refused with its path and the problem, and left as it was", async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, "account.json");
  await withSim({ ...base, startTime: T0, stateFile }, async (sim, call) => {
    sim.admin.setQuote("AAPL", "190", "190.02");
    await call("POST", "/v2/orders", order({ symbol: "AAPL", qty: "1", side: "buy" }));
  });
  const good = JSON.parse(await readFile(stateFile, "utf8"));
  const cases: [string, string, RegExp][] = [
    ["not JSON", '{"format": ', /is not valid JSON/],
    ["another file", JSON.stringify({ hello: "world" }), /not a simulator account file/],
    [
      "a newer version",
      JSON.stringify({ ...good, version: 2 }),
      /version 2 is not supported \(this simulator reads version 1\)/,
    ],
    [
      "a malformed field",
      JSON.stringify({ ...good, orders: [{ ...good.orders[0], qty: "ten" }] }),
      /orders\[0\]\.qty: "ten" is not a decimal/,
    ],
    [
      "a missing field",
      JSON.stringify({ ...good, account: { ...good.account, cash: undefined } }),
      /account\.cash: expected a decimal string, found missing/,
    ],
  ];
  for (const [what, text, problem] of cases) {
    await writeFile(stateFile, text);
    await assert.rejects(startSimulator({ ...base, stateFile }), (e: unknown) => {
      assert.ok(isTradepipeError(e, "TP_ERR_SIM_STATE"), `${what}: ${String(e)}`);
      assert.match(e.message, problem, what);
      assert.ok(e.message.includes(stateFile), `${what}: names the file`);
      assert.match(e.message, /delete .*account\.json/, `${what}: offers the remedy`);
      return true;
    });
    assert.equal(await readFile(stateFile, "utf8"), text, `${what}: the file is left as it was`);
  }
  // The remedy works (and the refused starts left no lock behind).
  await rm(stateFile);
  await withSim({ ...base, stateFile }, async (sim) => {
    assert.equal(sim.account?.restored, false);
  });
});

test("one account file serves one simulator at a time, a dead one's lock is taken over, and the clock never runs backwards", async (t) => {
  const stateFile = join(await tempDir(t), "account.json");
  await withSim({ ...base, startTime: T0, stateFile }, async (sim) => {
    sim.admin.advance(60_000);
    await assert.rejects(startSimulator({ ...base, stateFile }), (e: unknown) => {
      assert.ok(isTradepipeError(e, "TP_ERR_SIM_STATE"));
      assert.match(e.message, /is in use by process \d+/);
      return true;
    });
  });
  await assert.rejects(startSimulator({ ...base, startTime: T0, stateFile }), (e: unknown) => {
    assert.ok(isTradepipeError(e, "TP_ERR_SIM_STATE"));
    assert.match(
      e.message,
      /startTime 2026-03-02T15:00:00Z is before the last save .*2026-03-02T15:01:00Z/,
    );
    return true;
  });
  // A lock left by a process that died (SIGKILL, power cut) is taken over.
  const dead = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => dead.on("exit", resolve));
  await writeFile(`${stateFile}.lock`, `${dead.pid}\n`);
  await withSim({ ...base, stateFile }, async (sim) => {
    assert.equal(sim.account?.restored, true);
  });
});

test("tradepipe sim --state keeps the account, says where, and refuses a torn file", async (t) => {
  const stateFile = join(await tempDir(t), "cli.json");
  const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));
  const runSim = async (): Promise<string> => {
    const child = spawn(process.execPath, [cli, "sim", "--port", "0", "--state", stateFile], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exit = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    try {
      await waitFor(() => out.includes("Ctrl-C"), "startup banner", 20_000);
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exit, 0);
    return out;
  };
  assert.match(await runSim(), /account\s+new account, kept in .*cli\.json/);
  assert.match(
    await runSim(),
    /account\s+account restored from .*cli\.json: cash 100000, 0 positions/,
  );
  await writeFile(stateFile, "{ torn");
  const child = spawn(process.execPath, [cli, "sim", "--port", "0", "--state", stateFile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  assert.equal(code, 1);
  assert.match(
    err,
    /^tradepipe: TP_ERR_SIM_STATE: broker-sim: account file .*cli\.json: is not valid JSON/,
  );
  assert.doesNotMatch(err, /\n\s+at /, "no stack trace");
});
