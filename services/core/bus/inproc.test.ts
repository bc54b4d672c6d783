import assert from "node:assert/strict";
import { test } from "node:test";
import { publishFields } from "./fields.ts";
import { STAMP_LENGTH } from "./frame.ts";
import { InProcBus } from "./inproc.ts";

const bytes = (s: string) => Buffer.from(s);
/** text: what was published (the payload without the bus's header stamp). */
const text = (payload: Uint8Array) =>
  Buffer.from(payload.subarray(0, payload.length - STAMP_LENGTH)).toString();

for (const delivery of ["sync", "microtask"] as const) {
  test(`InProcBus (${delivery}): a background subscriber runs after what the path published`, async () => {
    const bus = new InProcBus({ delivery, observer: {} });
    const seen: string[] = [];
    // The path: quote → signal → intent, each published from the previous one's handler.
    bus.subscribe(["md.quote/*"], (m) => {
      seen.push(`signal-bridge ${text(m.payload)}`);
      bus.publish("signal/AAPL", bytes(`s${text(m.payload)}`));
    });
    bus.subscribe(["md.quote/*"], (m) => seen.push(`tracker ${text(m.payload)}`), {
      background: true,
    });
    bus.subscribe(["signal/*"], (m) => {
      seen.push(`risk ${text(m.payload)}`);
      bus.publish("order.intent/AAPL", bytes(`i${text(m.payload)}`));
    });
    bus.subscribe(["order.intent/*"], (m) => seen.push(`engine ${text(m.payload)}`));
    // Two ticks, each delivered before the next (microtask delivery runs after the publisher).
    bus.publish("md.quote/AAPL", bytes("q1"));
    await new Promise((r) => setImmediate(r));
    bus.publish("md.quote/AAPL", bytes("q2"));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [
      "signal-bridge q1",
      "risk sq1",
      "engine isq1",
      "tracker q1",
      "signal-bridge q2",
      "risk sq2",
      "engine isq2",
      "tracker q2",
    ]);
    await bus.close();
  });
}

test("InProcBus: background deliveries keep publish order, and what they publish goes first", () => {
  const bus = new InProcBus();
  const seen: string[] = [];
  bus.subscribe(
    ["md.quote/*"],
    (m) => {
      seen.push(`tracker ${text(m.payload)}`);
      bus.publish("position.update/AAPL", bytes(`p${text(m.payload)}`));
    },
    { background: true },
  );
  bus.subscribe(["position.update/*"], (m) => seen.push(`risk ${text(m.payload)}`));
  bus.subscribe(["md.quote/*"], (m) => {
    // Three quotes in one frame: the later ones are queued behind this delivery.
    if (text(m.payload) === "q1") {
      bus.publish("md.quote/AAPL", bytes("q2"));
      bus.publish("md.quote/AAPL", bytes("q3"));
    }
  });
  bus.publish("md.quote/AAPL", bytes("q1"));
  assert.deepEqual(seen, [
    "tracker q1",
    "risk pq1",
    "tracker q2",
    "risk pq2",
    "tracker q3",
    "risk pq3",
  ]);
});

test("InProcBus: a held delivery is dropped once its subscription ended, and a throw is counted", () => {
  const bus = new InProcBus({ observer: { handlerError: () => {} } });
  const seen: string[] = [];
  const background = bus.subscribe(["md.quote/*"], () => seen.push("tracker"), {
    background: true,
  });
  bus.subscribe(["md.quote/*"], () => {
    seen.push("signal-bridge");
    background.unsubscribe();
  });
  bus.publish("md.quote/AAPL", bytes("q1"));
  assert.deepEqual(seen, ["signal-bridge"]);

  bus.subscribe(
    ["md.trade/*"],
    () => {
      throw new Error("boom");
    },
    { background: true },
  );
  const after: string[] = [];
  bus.subscribe(["md.trade/*"], () => after.push("engine"));
  bus.publish("md.trade/AAPL", bytes("t1"));
  assert.deepEqual(after, ["engine"]);
  assert.equal(bus.stats().handlerErrors, 1);
});

test("InProcBus.publishEncoded makes the bytes only when a subscriber reads them", () => {
  const bus = new InProcBus();
  let encoded = 0;
  const encode = (v: { n: number }) => {
    encoded++;
    return bytes(`n=${v.n}`);
  };
  const values: unknown[] = [];
  bus.subscribe(["signal/*"], (m) => values.push(m.value));
  const copy = (v: { n: number }) => ({ ...v });
  publishFields(bus, "signal/AAPL", { n: 1 }, encode, copy);
  assert.deepEqual(values, [{ n: 1 }]);
  assert.equal(encoded, 0, "nobody read the bytes: none were made");

  const seen: string[] = [];
  bus.subscribe(["signal/*"], (m) => seen.push(`${text(m.payload)} #${m.sequence}`));
  publishFields(bus, "signal/AAPL", { n: 2 }, encode, copy);
  assert.deepEqual(seen, ["n=2 #2"]);
  assert.equal(encoded, 1);
});

test("InProcBus copies published bytes: a publisher reusing its buffer changes nothing delivered", async () => {
  const bus = new InProcBus({ delivery: "microtask" });
  const seen: string[] = [];
  bus.subscribe(["md.quote/*"], (m) => seen.push(text(m.payload)));
  const buf = bytes("q1");
  bus.publish("md.quote/AAPL", buf);
  buf.write("q2");
  bus.publish("md.quote/AAPL", buf);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ["q1", "q2"]);
});
