/**
 * The simulator's two WebSocket protocols, spoken by a plain ws client: the trade_updates
 * handshake and events, and the market-data handshake, error codes, JSON and MessagePack
 * framing (with `t` as a MessagePack Timestamp), the L2 book channel, ping/pong and limits.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { api, listenTradeUpdates, RawClient, waitFor } from "./support.ts";

type Frame = Record<string, unknown>;
type Msg = Frame[];

describe("trade_updates stream", () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ seed: 3, clock: "manual", partialFillProbability: 1 });
  });
  after(() => sim.close());

  test("handshake: listen before auth is unauthorized, wrong keys unauthorized, then authorized and listening", async () => {
    const c = new RawClient(sim.streamUrl);
    await c.open();
    try {
      c.send({ action: "listen", data: { streams: ["trade_updates"] } });
      assert.deepEqual(await c.next(() => true, "reply"), {
        stream: "authorization",
        data: { status: "unauthorized", action: "listen" },
      });
      c.send({ action: "authenticate", data: { key_id: "x", secret_key: "y" } });
      assert.deepEqual(await c.next(() => true, "reply", 1), {
        stream: "authorization",
        data: { status: "unauthorized", action: "authenticate" },
      });
      c.send({
        action: "authenticate",
        data: { key_id: sim.keys.keyId, secret_key: sim.keys.secretKey },
      });
      assert.deepEqual(await c.next(() => true, "reply", 2), {
        stream: "authorization",
        data: { status: "authorized", action: "authenticate" },
      });
      c.send({ action: "listen", data: { streams: ["trade_updates", "account_updates"] } });
      assert.deepEqual(await c.next(() => true, "reply", 3), {
        stream: "listening",
        data: { streams: ["trade_updates"] },
      });
      c.ws.send("}{ not json");
      const err = (await c.next(() => true, "error", 4)) as Frame;
      assert.equal(err["action"], "error");
    } finally {
      c.close();
    }
  });

  const listener = () => listenTradeUpdates(sim.streamUrl, sim.keys);

  const updates = (c: RawClient) =>
    c.frames
      .filter((f) => (f as Frame)["stream"] === "trade_updates")
      .map((f) => (f as { data: Frame & { order: Frame } }).data);

  test("events: new, partial_fill…, fill with price/qty/position_qty; canceled; replaced; expired; rejected", async () => {
    const c = await listener();
    const call = api(sim.tradingUrl, sim.keys);
    try {
      sim.admin.setQuote("AAPL", "100.00", "100.02");
      const market = (
        await call("POST", "/v2/orders", {
          symbol: "AAPL",
          qty: "10",
          side: "buy",
          type: "market",
          time_in_force: "day",
        })
      ).body as Frame;
      for (let i = 0; i < 30; i++) sim.admin.setQuote("AAPL", "100.00", "100.02");
      await waitFor(() => updates(c).some((u) => u["event"] === "fill"), "fill");
      const mine = updates(c).filter((u) => u.order["id"] === market["id"]);
      assert.equal(mine[0]!["event"], "new");
      assert.equal(mine.at(-1)!["event"], "fill");
      assert.ok(mine.slice(1, -1).every((u) => u["event"] === "partial_fill"));
      assert.ok(mine.length >= 3, "partial fills happened with probability 1");
      for (const u of mine.slice(1)) {
        assert.equal(u["price"], "100.02");
        assert.match(String(u["qty"]), /^\d+$/);
        assert.match(String(u["position_qty"]), /^\d+$/);
        assert.match(String(u["timestamp"]), /Z$/);
        assert.ok(u["execution_id"]);
      }
      assert.equal(mine.at(-1)!["position_qty"], "10");

      const limit = (
        await call("POST", "/v2/orders", {
          symbol: "AAPL",
          qty: "1",
          side: "buy",
          type: "limit",
          limit_price: "90",
          time_in_force: "day",
        })
      ).body as Frame;
      const replaced = (await call("PATCH", `/v2/orders/${limit["id"]}`, { limit_price: "91" }))
        .body as Frame;
      await call("DELETE", `/v2/orders/${replaced["id"]}`);
      const day = (
        await call("POST", "/v2/orders", {
          symbol: "AAPL",
          qty: "1",
          side: "buy",
          type: "limit",
          limit_price: "90",
          time_in_force: "day",
        })
      ).body as Frame;
      sim.admin.closeSession();
      sim.admin.setFaults({ rejectNext: 1 });
      const rejected = (
        await call("POST", "/v2/orders", {
          symbol: "AAPL",
          qty: "1",
          side: "buy",
          type: "market",
          time_in_force: "day",
        })
      ).body as Frame;
      await waitFor(() => updates(c).some((u) => u["event"] === "rejected"), "rejected");
      const seen = (id: unknown) =>
        updates(c)
          .filter((u) => u.order["id"] === id)
          .map((u) => u["event"]);
      assert.deepEqual(seen(limit["id"]), ["new", "replaced"]);
      assert.equal(
        updates(c).find((u) => u["event"] === "replaced")!.order["replaced_by"],
        replaced["id"],
      );
      assert.deepEqual(seen(replaced["id"]), ["new", "canceled"]);
      assert.deepEqual(seen(day["id"]), ["new", "expired"]);
      assert.deepEqual(seen(rejected["id"]), ["rejected"]);
      assert.ok(updates(c).every((u) => typeof u["timestamp"] === "string"));
    } finally {
      c.close();
    }
  });

  test("MessagePack on request: a client sending Content-Type application/msgpack gets msgpack", async () => {
    const c = new RawClient(sim.streamUrl, { msgpack: true });
    await c.open();
    try {
      c.send({
        action: "authenticate",
        data: { key_id: sim.keys.keyId, secret_key: sim.keys.secretKey },
      });
      assert.deepEqual(await c.next(() => true, "reply"), {
        stream: "authorization",
        data: { status: "authorized", action: "authenticate" },
      });
    } finally {
      c.close();
    }
  });

  test("frames are binary (as Alpaca paper sends them)", async () => {
    const c = new RawClient(sim.streamUrl);
    await c.open();
    const kinds: boolean[] = [];
    c.ws.on("message", (_d, isBinary) => kinds.push(isBinary));
    c.send({
      action: "authenticate",
      data: { key_id: sim.keys.keyId, secret_key: sim.keys.secretKey },
    });
    await waitFor(() => kinds.length > 0, "reply");
    c.close();
    assert.deepEqual(kinds, [true]);
  });
});

describe("market-data stream", () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ seed: 4, clock: "manual" });
  });
  after(() => sim.close());

  const frames = (c: RawClient) => c.frames.flatMap((f) => f as Msg);

  test("connected → errors 401/402/400 → authenticated → 403 on a second auth → subscription", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/iex`);
    await c.open();
    try {
      await waitFor(() => c.frames.length === 1, "connected");
      assert.deepEqual(c.frames[0], [{ T: "success", msg: "connected" }]);
      c.send({ action: "subscribe", trades: ["AAPL"] });
      c.send({ action: "auth", key: "bad", secret: "bad" });
      c.send({ action: "dance" });
      c.ws.send("not json");
      c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
      c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
      c.send({ action: "subscribe", trades: ["AAPL"], quotes: ["*"], bars: "AAPL" });
      c.send({ action: "subscribe", trades: ["aapl", "MSFT"], quotes: ["AAPL"] });
      c.send({ action: "unsubscribe", trades: ["MSFT"] });
      await waitFor(() => c.frames.length === 10, "replies");
      assert.deepEqual(c.frames.slice(1, 8), [
        [{ T: "error", code: 401, msg: "not authenticated" }],
        [{ T: "error", code: 402, msg: "auth failed" }],
        [{ T: "error", code: 400, msg: "invalid syntax" }],
        [{ T: "error", code: 400, msg: "invalid syntax" }],
        [{ T: "success", msg: "authenticated" }],
        [{ T: "error", code: 403, msg: "already authenticated" }],
        [{ T: "error", code: 400, msg: "invalid syntax" }],
      ]);
      const sub = (c.frames[8] as Msg)[0]!;
      assert.equal(sub["T"], "subscription");
      assert.deepEqual(sub["trades"], ["AAPL", "MSFT"]);
      assert.deepEqual(sub["quotes"], ["AAPL"]);
      for (const k of ["bars", "updatedBars", "dailyBars", "statuses", "lulds", "orderbooks"])
        assert.deepEqual(sub[k], []);
      assert.deepEqual(sub["corrections"], ["AAPL", "MSFT"]);
      assert.deepEqual((c.frames[9] as Msg)[0]!["trades"], ["AAPL"]);
    } finally {
      c.close();
    }
  });

  test("JSON: trades and quotes with RFC-3339 t; only subscribed symbols arrive", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/sip`, {
      headers: { "APCA-API-KEY-ID": sim.keys.keyId, "APCA-API-SECRET-KEY": sim.keys.secretKey },
    });
    await c.open();
    try {
      await waitFor(() => c.frames.length === 2, "connected+authenticated by headers");
      assert.deepEqual(c.frames[1], [{ T: "success", msg: "authenticated" }]);
      c.send({ action: "subscribe", trades: ["AAPL"], quotes: ["AAPL"], bars: ["AAPL"] });
      await waitFor(() => c.frames.length === 3, "subscription");
      sim.admin.advance(61_000);
      await waitFor(() => frames(c).some((f) => f["T"] === "b"), "a bar");
      const data = frames(c).filter((f) => ["t", "q", "b"].includes(String(f["T"])));
      assert.ok(data.every((f) => f["S"] === "AAPL"));
      const trade = data.find((f) => f["T"] === "t")!;
      assert.deepEqual(Object.keys(trade).sort(), ["S", "T", "c", "i", "p", "s", "t", "x", "z"]);
      assert.match(String(trade["t"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
      const quote = data.find((f) => f["T"] === "q")!;
      assert.deepEqual(Object.keys(quote).sort(), [
        "S",
        "T",
        "ap",
        "as",
        "ax",
        "bp",
        "bs",
        "bx",
        "c",
        "t",
        "z",
      ]);
      const bar = data.find((f) => f["T"] === "b")!;
      assert.deepEqual(Object.keys(bar).sort(), [
        "S",
        "T",
        "c",
        "h",
        "l",
        "n",
        "o",
        "t",
        "v",
        "vw",
      ]);
    } finally {
      c.close();
    }
  });

  test("MessagePack: frames are msgpack and t is a Timestamp extension (decodes to a Date)", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/test`, { msgpack: true });
    await c.open();
    try {
      await waitFor(() => c.frames.length === 1, "connected");
      c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
      c.send({ action: "subscribe", trades: ["FAKEPACA"] });
      await waitFor(() => c.frames.length === 3, "subscription");
      sim.admin.advance(10_000);
      await waitFor(() => frames(c).some((f) => f["T"] === "t"), "a trade");
      const trade = frames(c).find((f) => f["T"] === "t")!;
      assert.ok(trade["t"] instanceof Date);
      assert.equal(trade["S"], "FAKEPACA");
    } finally {
      c.close();
    }
  });

  test("orderbooks: a full book with r=true, then changed levels only; size 0 removes a level", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/iex`);
    await c.open();
    try {
      c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
      c.send({ action: "subscribe", orderbooks: ["MSFT"] });
      await waitFor(() => frames(c).some((f) => f["T"] === "o"), "snapshot");
      sim.admin.advance(5_000);
      await waitFor(() => frames(c).filter((f) => f["T"] === "o").length > 3, "updates");
      const books = frames(c).filter((f) => f["T"] === "o") as {
        S: string;
        r: boolean;
        b: { p: number; s: number }[];
        a: { p: number; s: number }[];
      }[];
      assert.equal(books[0]!.r, true);
      assert.equal(books[0]!.b.length, 5);
      assert.equal(books[0]!.a.length, 5);
      assert.ok(books[0]!.b[0]!.p < books[0]!.a[0]!.p);
      assert.ok(books.slice(1).every((b) => b.r === false && b.S === "MSFT"));
      // Rebuild the book from the updates and compare with the live top of book.
      const bids = new Map(books[0]!.b.map((l) => [l.p, l.s]));
      for (const u of books.slice(1))
        for (const l of u.b) l.s === 0 ? bids.delete(l.p) : bids.set(l.p, l.s);
      const best = Math.max(...bids.keys());
      const state = sim.admin.state();
      assert.equal(best, Number(state.quotes["MSFT"]!.bp));
    } finally {
      c.close();
    }
  });

  test("more than 10 000 subscriptions on one connection is 405 symbol limit exceeded", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/iex`);
    await c.open();
    try {
      c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
      const many = (prefix: string) => Array.from({ length: 3000 }, (_, i) => `${prefix}${i}`);
      for (const p of ["A", "B", "C"]) c.send({ action: "subscribe", trades: many(p) });
      c.send({ action: "subscribe", quotes: many("D") });
      await waitFor(() => c.frames.length === 6, "replies");
      assert.deepEqual(c.frames[5], [{ T: "error", code: 405, msg: "symbol limit exceeded" }]);
      const last = (c.frames[4] as Msg)[0]!;
      assert.equal((last["trades"] as string[]).length, 9000);
    } finally {
      c.close();
    }
  });

  test("ping gets pong; oversized messages get 400; frames over 1 MiB close the socket; unknown paths 404", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/iex`);
    await c.open();
    let pong = false;
    c.ws.on("pong", () => {
      pong = true;
    });
    c.ws.ping();
    await waitFor(() => pong, "pong");
    c.ws.send(JSON.stringify({ action: "auth", key: "x".repeat(100_000) }));
    await waitFor(() => frames(c).some((f) => f["code"] === 400), "400");
    c.ws.send(Buffer.alloc(1_100_000, 0x61));
    await waitFor(() => c.closed, "close on oversized frame");
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${sim.dataUrl}/v1beta3/crypto/us`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => {});
    });
    assert.equal(status, 404);
  });
});
