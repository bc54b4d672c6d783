/**
 * runBusContract: the one behaviour suite every Bus implementation must pass. A factory
 * returns a publishing and a subscribing bus (the same object for in-process buses).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type BusOptions,
  publishFields,
  publishMessage,
  Topics,
  topic,
} from "../../services/core/bus/index.ts";
import type { Bus, BusMessage } from "../../services/core/bus/types.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { HeartbeatSchema, newHeader, QuoteSchema } from "../../services/core/messages/index.ts";
import { waitFor } from "./wait.ts";

export interface BusPair {
  publisher: Bus;
  subscriber: Bus;
}

export interface BusFactoryOptions {
  publisher?: BusOptions;
  subscriber?: BusOptions;
  /** Bound on queued messages per link (the transport's high-water mark). */
  highWaterMark?: number;
}

export interface BusContractTarget {
  name: string;
  newBus(options?: BusFactoryOptions): Promise<BusPair>;
}

/** linkUp returns once a message published now reaches the subscriber (subscriptions are live). */
export async function linkUp({ publisher, subscriber }: BusPair): Promise<void> {
  let seen = false;
  const sub = subscriber.subscribe([Topics.heartbeat], () => {
    seen = true;
  });
  const beat = toBinary(
    HeartbeatSchema,
    create(HeartbeatSchema, { header: newHeader("link", 0n) }),
  );
  try {
    const deadline = Date.now() + 10_000;
    while (!seen) {
      if (Date.now() > deadline) throw new Error("link never came up");
      publisher.publish(Topics.heartbeat, beat);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    sub.unsubscribe();
  }
}

async function closeAll(pair: BusPair): Promise<void> {
  await pair.subscriber.close();
  if (pair.publisher !== pair.subscriber) await pair.publisher.close();
}

function quote(symbol: string, bid: string) {
  return create(QuoteSchema, {
    header: newHeader("contract", 1_700_000_000_000_000_000n, {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    }),
    symbol,
    bidPrice: bid,
    askPrice: "100.02",
  });
}

export function runBusContract(target: BusContractTarget): void {
  describe(`Bus contract: ${target.name}`, () => {
    it("delivers a message with the header stamped by the bus", async () => {
      const pair = await target.newBus({ publisher: { publisherId: 4242 } });
      try {
        const got: BusMessage[] = [];
        pair.subscriber.subscribe([topic(Topics.quote, "AAPL")], (m) => got.push(m));
        await linkUp(pair);
        const seq = publishMessage(
          pair.publisher,
          "md.quote/AAPL",
          QuoteSchema,
          quote("AAPL", "99.5"),
        );
        await waitFor(() => got.length === 1, "the quote");
        const m = got[0]!;
        assert.equal(m.topic, "md.quote/AAPL");
        assert.equal(m.sequence, seq);
        assert.equal(m.sequence, 1);
        assert.equal(m.publisherId, 4242);
        assert.ok(m.publishTimeNs > 0n);
        const decoded = fromBinary(QuoteSchema, m.payload);
        assert.equal(decoded.symbol, "AAPL");
        assert.equal(decoded.bidPrice, "99.5");
        assert.equal(decoded.header?.sequence, 1n);
        assert.equal(decoded.header?.publisherId, 4242n);
        assert.equal(decoded.header?.publishTimeNs, m.publishTimeNs);
        assert.equal(decoded.header?.eventTimeNs, 1_700_000_000_000_000_000n);
        assert.equal(decoded.header?.source, "contract");
        assert.match(decoded.header?.traceparent ?? "", /^00-0af7651916cd43dd/);
      } finally {
        await closeAll(pair);
      }
    });

    it("publishFields: the bytes reach every subscriber; the publisher's copy only in process", async () => {
      const pair = await target.newBus();
      try {
        const got: BusMessage[] = [];
        pair.subscriber.subscribe([topic(Topics.quote, "MSFT")], (m) => got.push(m));
        await linkUp(pair);
        const fields = quote("MSFT", "41.5");
        publishFields(
          pair.publisher,
          "md.quote/MSFT",
          fields,
          (q) => toBinary(QuoteSchema, q),
          (q) => clone(QuoteSchema, q),
        );
        await waitFor(() => got.length === 1, "the quote");
        const m = got[0]!;
        const decoded = fromBinary(QuoteSchema, m.payload);
        assert.equal(decoded.bidPrice, "41.5");
        assert.equal(decoded.header?.sequence, BigInt(m.sequence));
        const inProcess = pair.publisher === pair.subscriber;
        if (inProcess) {
          assert.equal((m.value as typeof fields).bidPrice, "41.5");
          assert.notEqual(m.value, fields, "a copy, not the publisher's own object");
        } else {
          assert.equal(m.value, undefined, "only bytes cross a process");
        }
      } finally {
        await closeAll(pair);
      }
    });

    it("matches exact topics exactly and `*` filters by prefix", async () => {
      const pair = await target.newBus();
      try {
        const exact: string[] = [];
        const prefix: string[] = [];
        pair.subscriber.subscribe(["md.quote/AAPL"], (m) => exact.push(m.topic));
        pair.subscriber.subscribe(["md.trade/*"], (m) => prefix.push(m.topic));
        await linkUp(pair);
        const bytes = new Uint8Array([1, 2, 3]);
        for (const t of [
          "md.quote/AAPLX",
          "md.quote/AAPL",
          "md.trade",
          "md.trade/MSFT",
          "md.quote/AAPL",
        ]) {
          pair.publisher.publish(t, bytes);
        }
        pair.publisher.publish("md.trade/END", bytes);
        await waitFor(() => prefix.includes("md.trade/END"), "the last trade");
        assert.deepEqual(exact, ["md.quote/AAPL", "md.quote/AAPL"]);
        assert.deepEqual(prefix, ["md.trade/MSFT", "md.trade/END"]);
      } finally {
        await closeAll(pair);
      }
    });

    it("keeps publish order and numbers each topic separately", async () => {
      const pair = await target.newBus();
      try {
        const got: Array<[string, number, number]> = [];
        pair.subscriber.subscribe(["order.*"], (m) =>
          got.push([m.topic, m.sequence, m.payload[0]!]),
        );
        await linkUp(pair);
        const expected: Array<[string, number, number]> = [];
        const seqs = { "order.intent": 0, "order.update": 0 };
        for (let i = 0; i < 2000; i++) {
          const t = i % 3 === 0 ? "order.update" : "order.intent";
          const seq = pair.publisher.publish(t, new Uint8Array([i & 0xff]));
          assert.equal(seq, ++seqs[t]);
          expected.push([t, seq, i & 0xff]);
          if (i % 200 === 0) await new Promise((r) => setImmediate(r));
        }
        await waitFor(() => got.length === expected.length, "2000 messages");
        assert.deepEqual(got, expected);
        assert.equal(pair.subscriber.stats().gaps, 0);
      } finally {
        await closeAll(pair);
      }
    });

    it("stops delivering after unsubscribe", async () => {
      const pair = await target.newBus();
      try {
        const a: number[] = [];
        const b: number[] = [];
        const subA = pair.subscriber.subscribe(["risk.state"], (m) => a.push(m.sequence));
        pair.subscriber.subscribe(["risk.*"], (m) => b.push(m.sequence));
        await linkUp(pair);
        pair.publisher.publish("risk.state", new Uint8Array(1));
        await waitFor(() => a.length === 1 && b.length === 1, "the first message");
        subA.unsubscribe();
        pair.publisher.publish("risk.state", new Uint8Array(1));
        await waitFor(() => b.length === 2, "the second message");
        assert.deepEqual(a, [1]);
        assert.deepEqual(b, [1, 2]);
      } finally {
        await closeAll(pair);
      }
    });

    it("detects what a resumed subscriber missed as a gap", async () => {
      const gaps: Array<[string, number]> = [];
      const pair = await target.newBus({
        publisher: { publisherId: 77 },
        subscriber: {
          resumeFrom: [{ publisherId: 77, topic: "control", sequence: 2 }],
          observer: { gap: (t, missing) => gaps.push([t, missing]) },
        },
      });
      try {
        await linkUp(pair);
        // Published while nobody subscribed to the topic: lost for this subscriber.
        for (let i = 0; i < 5; i++) pair.publisher.publish("control", new Uint8Array(1));
        await linkUp(pair); // messages before it have been processed (or dropped) by now
        const got: number[] = [];
        pair.subscriber.subscribe(["control"], (m) => got.push(m.sequence));
        await linkUp(pair);
        pair.publisher.publish("control", new Uint8Array(1));
        await waitFor(() => got.length === 1, "message 6");
        assert.deepEqual(got, [6]);
        assert.deepEqual(
          gaps.filter(([t]) => t === "control"),
          [["control", 3]],
        );
        assert.deepEqual(
          pair.subscriber.positions().filter((p) => p.topic === "control"),
          [{ publisherId: 77, topic: "control", sequence: 6 }],
        );
      } finally {
        await closeAll(pair);
      }
    });

    it("drops messages at or below a resumed position as stale", async () => {
      const pair = await target.newBus({
        publisher: { publisherId: 78 },
        subscriber: { resumeFrom: [{ publisherId: 78, topic: "control", sequence: 10 }] },
      });
      try {
        const got: number[] = [];
        pair.subscriber.subscribe(["control"], (m) => got.push(m.sequence));
        await linkUp(pair);
        for (let i = 0; i < 12; i++) pair.publisher.publish("control", new Uint8Array(1));
        await waitFor(() => got.length === 2, "messages 11 and 12");
        assert.deepEqual(got, [11, 12]);
        assert.equal(pair.subscriber.stats().stale, 10);
        assert.equal(pair.subscriber.stats().gaps, 0);
      } finally {
        await closeAll(pair);
      }
    });

    it("counts drops beyond the high-water mark as gaps without blocking the publisher", async () => {
      const pair = await target.newBus({ highWaterMark: 500 });
      try {
        const seqs: number[] = [];
        pair.subscriber.subscribe(["md.book_delta/*"], (m) => seqs.push(m.sequence));
        await linkUp(pair);
        const payload = new Uint8Array(200);
        let last = 0;
        // One synchronous burst: the subscriber cannot run until it ends.
        for (let i = 0; i < 50_000; i++)
          last = pair.publisher.publish("md.book_delta/SPY", payload);
        assert.equal(last, 50_000);
        // Publish a tail until it arrives, so trailing drops become a visible gap too.
        await waitFor(() => {
          if (seqs.at(-1)! > 50_000) return true;
          last = pair.publisher.publish("md.book_delta/SPY", payload);
          return false;
        }, "a message after the burst");
        let jumps = 0;
        let missing = 0;
        for (let i = 1; i < seqs.length; i++) {
          assert.ok(seqs[i]! > seqs[i - 1]!, "sequences only increase");
          if (seqs[i]! !== seqs[i - 1]! + 1) {
            jumps++;
            missing += seqs[i]! - seqs[i - 1]! - 1;
          }
        }
        const stats = pair.subscriber.stats();
        assert.equal(stats.gaps, jumps);
        assert.equal(stats.missing, missing);
        assert.equal(seqs.length + missing, seqs.at(-1)! - seqs[0]! + 1);
      } finally {
        await closeAll(pair);
      }
    });

    it("isolates a throwing handler and counts it", async () => {
      const errors: unknown[] = [];
      const pair = await target.newBus({
        subscriber: { observer: { handlerError: (e) => errors.push(e) } },
      });
      try {
        const got: number[] = [];
        pair.subscriber.subscribe(["signal/*"], () => {
          throw new Error("handler bug");
        });
        pair.subscriber.subscribe(["signal/*"], (m) => got.push(m.sequence));
        await linkUp(pair);
        pair.publisher.publish("signal/AAPL", new Uint8Array(1));
        pair.publisher.publish("signal/AAPL", new Uint8Array(1));
        await waitFor(() => got.length === 2, "both signals");
        assert.equal(pair.subscriber.stats().handlerErrors, 2);
        assert.equal(errors.length, 2);
      } finally {
        await closeAll(pair);
      }
    });

    it("refuses bad topics and filters with a clear error, and publishing after close", async () => {
      const pair = await target.newBus();
      const bad = (fn: () => unknown, pattern: RegExp) =>
        assert.throws(fn, (e) => isTradepipeError(e) && pattern.test(e.message));
      bad(() => pair.publisher.publish("", new Uint8Array(1)), /topic "": must be/);
      bad(() => pair.publisher.publish("md quote", new Uint8Array(1)), /topic "md quote"/);
      bad(() => pair.publisher.publish("md.*", new Uint8Array(1)), /reserved for subscription/);
      bad(() => pair.subscriber.subscribe(["md.*.x"], () => {}), /'\*' may only end a filter/);
      await closeAll(pair);
      assert.throws(
        () => pair.publisher.publish("control", new Uint8Array(1)),
        (e) => isTradepipeError(e, "TP_ERR_BUS_CLOSED"),
      );
    });
  });
}
