/**
 * The bus between real processes, over ZeroMQ ipc:// and over Unix sockets (unix://):
 * ordering, gaps across a subscriber restart, a publisher restart and a reconnect, and a slow
 * subscriber at the high-water mark.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type NetworkBus, openBus, type Transport } from "../../services/core/bus/open.ts";
import { Topics } from "../../services/core/bus/topics.ts";
import type { BusMessage, BusStats, StreamPosition } from "../../services/core/bus/types.ts";
import type { Received } from "./peer.ts";
import { type Peer, startPeer } from "./peers.ts";
import { waitFor } from "./wait.ts";

const dir = mkdtempSync(join(tmpdir(), "tradepipe-bus-ipc-"));
const peers: Peer[] = [];
const buses: NetworkBus[] = [];
after(async () => {
  await Promise.all(peers.map((p) => p.kill()));
  await Promise.all(buses.map((b) => b.close()));
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;

interface Report {
  received: Received[];
  gaps: Array<[string, number]>;
  stats: BusStats;
  positions: StreamPosition[];
}

function peer(config: Parameters<typeof startPeer>[0]): Peer {
  const p = startPeer(config);
  peers.push(p);
  return p;
}

async function publisherBus(at: string, highWaterMark?: number): Promise<NetworkBus> {
  const bus = await openBus({ bind: [at], ...(highWaterMark ? { highWaterMark } : {}) });
  buses.push(bus);
  return bus;
}

/** untilReady heartbeats until the subscriber peer reports its subscription is live. */
async function untilReady(bus: NetworkBus, sub: Peer): Promise<void> {
  const timer = setInterval(() => bus.publish(Topics.heartbeat, Buffer.alloc(4)), 5);
  try {
    await sub.next("ready");
  } finally {
    clearInterval(timer);
  }
}

function indexed(i: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(i);
  return b;
}

/** reportUntil asks the subscriber peer for its report until `done` holds for it. */
async function reportUntil(
  sub: Peer,
  what: string,
  done: (r: Report) => boolean,
  timeoutMs = 15_000,
): Promise<Report> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    sub.send({ type: "report" });
    const r = await sub.next<Report>("report");
    if (done(r)) return r;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const transport of ["zmq", "uds"] as const satisfies Transport[]) {
  const endpoint = () =>
    transport === "zmq"
      ? `ipc://${join(dir, `bus-${n++}.sock`)}`
      : `unix://${join(dir, `uds-${n++}.sock`)}`;

  describe(`the bus between two processes (${transport === "zmq" ? "ZeroMQ ipc://" : "Unix socket unix://"})`, () => {
    it("preserves publish order per topic across processes", async () => {
      const at = endpoint();
      const bus = await publisherBus(at);
      const sub = peer({ role: "subscriber", endpoint: at, filters: ["md.*"] });
      await untilReady(bus, sub);
      const topics = ["md.trade/AAPL", "md.quote/AAPL", "md.quote/MSFT"];
      const expected: Received[] = [];
      for (let i = 0; i < 30_000; i++) {
        const t = topics[i % 3 === 0 ? 0 : i % 7 === 0 ? 2 : 1]!;
        expected.push([t, bus.publish(t, indexed(i)), i]);
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
      }
      const got = await reportUntil(
        sub,
        "all 30,000 messages in the subscriber",
        (r) => r.received.length >= expected.length,
      );
      assert.deepEqual(got.received, expected);
      assert.equal(got.stats.gaps, 0);
    });

    it("detects, after a subscriber restart, what it missed since its persisted position", async () => {
      const at = endpoint();
      const bus = await publisherBus(at);
      const persistTo = join(dir, `positions-${n++}.json`);
      let i = 0;
      const ticker = setInterval(() => bus.publish("md.quote/AAPL", indexed(i++)), 1);
      try {
        const first = peer({
          role: "subscriber",
          endpoint: at,
          filters: ["md.quote/*"],
          persistTo,
        });
        await untilReady(bus, first);
        await waitFor(() => {
          try {
            return JSON.parse(readFileSync(persistTo, "utf8")).length > 0;
          } catch {
            return false;
          }
        }, "the first subscriber to persist a position");
        await first.kill();
        const persisted = JSON.parse(readFileSync(persistTo, "utf8")) as StreamPosition[];
        const before = persisted.find((p) => p.topic === "md.quote/AAPL")!;
        // The publisher keeps publishing while no subscriber runs.
        const resumeAt = i + 20;
        await waitFor(() => i >= resumeAt, "20 more messages while the subscriber is down");
        const second = peer({
          role: "subscriber",
          endpoint: at,
          filters: ["md.quote/*"],
          resumeFrom: persisted,
        });
        await untilReady(bus, second);
        const got = await reportUntil(
          second,
          "a message in the restarted subscriber",
          (r) => r.received.length > 0,
        );
        const firstSeq = got.received[0]![1];
        assert.ok(firstSeq > before.sequence + 1, "messages were published while it was down");
        assert.deepEqual(
          got.gaps.filter(([t]) => t === "md.quote/AAPL"),
          [["md.quote/AAPL", firstSeq - before.sequence - 1]],
        );
      } finally {
        clearInterval(ticker);
      }
    });

    it("treats a restarted publisher as a new stream, and a reconnect's losses as a gap", async () => {
      const at = endpoint();
      const seen: BusMessage[] = [];
      const gaps: Array<[string, number]> = [];
      const bus = await openBus({
        connect: [at],
        observer: { gap: (t, missing) => gaps.push([t, missing]) },
      });
      buses.push(bus);
      bus.subscribe(["order.update"], (m) => seen.push(m));
      let beats = 0;
      bus.subscribe([Topics.heartbeat], () => beats++);

      const runPublisher = async (count: number) => {
        const pub = peer({ role: "publisher", endpoint: at });
        const { publisherId } = await pub.next<{ publisherId: number }>("bound");
        const start = beats;
        await waitFor(() => beats > start + 1, "heartbeats from the publisher");
        pub.send({ type: "publish", topic: "order.update", count });
        await pub.next("published");
        return { pub, publisherId };
      };

      const one = await runPublisher(50);
      await waitFor(() => seen.length === 50, "50 updates from the first publisher");
      await one.pub.kill();
      const two = await runPublisher(30);
      await waitFor(() => seen.length === 80, "30 updates from the restarted publisher");
      assert.notEqual(one.publisherId, two.publisherId);
      assert.deepEqual(
        seen.map((m) => [m.publisherId, m.sequence]),
        [
          ...Array.from({ length: 50 }, (_, k) => [one.publisherId, k + 1]),
          ...Array.from({ length: 30 }, (_, k) => [two.publisherId, k + 1]),
        ],
      );
      assert.deepEqual(
        gaps.filter(([t]) => t === "order.update"),
        [],
      );

      // A network break: the subscriber drops the link, the publisher carries on, the link returns.
      bus.disconnect(at);
      two.pub.send({ type: "publish", topic: "order.update", count: 25 });
      await two.pub.next("published");
      bus.connect(at);
      const start = beats;
      await waitFor(() => beats > start + 1, "heartbeats after reconnecting");
      two.pub.send({ type: "publish", topic: "order.update", count: 1 });
      await waitFor(() => seen.length === 81, "the update after reconnecting");
      assert.equal(seen.at(-1)!.sequence, 56);
      assert.deepEqual(
        gaps.filter(([t]) => t === "order.update"),
        [["order.update", 25]],
      );
    });

    it("never blocks the publisher on a slow subscriber; drops show up as gaps", async () => {
      const at = endpoint();
      const bus = await publisherBus(at, 100);
      const sub = peer({
        role: "subscriber",
        endpoint: at,
        filters: ["md.book_delta/*"],
        slowMicros: 200,
        highWaterMark: 100,
      });
      await untilReady(bus, sub);
      const burst = 20_000;
      let last = 0;
      for (let i = 0; i < burst; i++) last = bus.publish("md.book_delta/SPY", indexed(i));
      // Reaching this line is the point: 20,000 publishes returned while the subscriber, at
      // 200 µs a message, had handled only a few of them.
      assert.equal(last, burst);
      const got = await reportUntil(
        sub,
        "a message after the burst",
        (r) => {
          const tail = r.received.at(-1)?.[1] ?? 0;
          if (tail <= burst) bus.publish("md.book_delta/SPY", indexed(burst + 1));
          return tail > burst;
        },
        30_000,
      );
      const seqs = got.received.map((r) => r[1]);
      assert.ok(seqs.length < burst, "some messages were dropped");
      assert.ok(got.stats.gaps > 0);
      assert.equal(seqs.length + got.stats.missing, seqs.at(-1)! - seqs[0]! + 1);
    });
  });
}
