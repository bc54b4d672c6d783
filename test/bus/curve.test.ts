/**
 * The bus closed to strangers: CURVE with a ZAP allow-list over real ZeroMQ tcp://. A client of
 * the pipeline (holding its key pair) reads the stream; a plain ZeroMQ subscriber and a CURVE
 * client with its own key pair (even one that knows the server's public key) read nothing.
 * And an idle subscriber can make the publisher queue only a bounded number of messages.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { curveKeyPair, Subscriber } from "zeromq";
import {
  generateCurveKeyPair,
  readBusCurveDir,
  z85Decode,
  z85Encode,
} from "../../services/core/bus/curve.ts";
import { openBus } from "../../services/core/bus/open.ts";
import type { ZapDecision } from "../../services/core/bus/zap.ts";
import { DEFAULT_SEND_HIGH_WATER_MARK, ZmqBus } from "../../services/core/bus/zmq.ts";
import { waitFor } from "./wait.ts";

const TOPIC = "order.intent/AAPL";

describe("CURVE on the ZeroMQ bus", () => {
  const pipelineKeys = generateCurveKeyPair();
  const decisions: ZapDecision[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test("Z85 matches libzmq's own key encoding", () => {
    const pair = curveKeyPair();
    assert.equal(z85Encode(z85Decode(pair.publicKey)), pair.publicKey);
    assert.equal(z85Decode(pair.secretKey).length, 32);
    assert.throws(() => z85Decode("abc"), /multiple of 5/);
  });

  test("a pipeline client reads; a plain subscriber and a foreign key pair are refused", async () => {
    const publisher = await ZmqBus.open({
      bind: ["tcp://127.0.0.1:*"],
      curve: pipelineKeys,
      onAuthentication: (d) => decisions.push(d),
    });
    closers.push(() => publisher.close());
    const endpoint = publisher.endpoints[0]!;

    // Foreign 1: plain ZeroMQ, no CURVE at all (any pod on an open network).
    const plain = new Subscriber({ linger: 0 });
    // Foreign 2: CURVE with its own pair; it even knows the pipeline's public key.
    const stranger = curveKeyPair();
    const foreign = new Subscriber({
      linger: 0,
      curvePublicKey: stranger.publicKey,
      curveSecretKey: stranger.secretKey,
      curveServerKey: pipelineKeys.publicKey,
    });
    const foreignGot: string[] = [];
    for (const [name, socket] of [
      ["plain", plain],
      ["foreign", foreign],
    ] as const) {
      closers.push(() => socket.close());
      socket.subscribe("");
      socket.connect(endpoint);
      void (async () => {
        try {
          for await (const [frame] of socket) foreignGot.push(`${name}: ${frame?.length} bytes`);
        } catch {
          // closed
        }
      })();
    }

    const member = await ZmqBus.open({ connect: [endpoint], curve: pipelineKeys });
    closers.push(() => member.close());
    const got: number[] = [];
    member.subscribe([TOPIC], (m) => got.push(m.sequence));

    // Publish until the pipeline's own client has read 200 messages and the ZAP handler has
    // refused the stranger's key (its handshake is decided, so it had every chance to read).
    const payload = new Uint8Array([8, 1]);
    await waitFor(() => {
      publisher.publish(TOPIC, payload);
      const strangerDecided = decisions.some((d) => d.clientKey === stranger.publicKey);
      return got.length >= 200 && (strangerDecided || foreignGot.length > 0);
    }, "the member to read and the stranger's handshake to be decided");
    assert.deepEqual(foreignGot, [], "no foreign subscriber received a message");
    assert.ok(
      decisions.some((d) => d.clientKey === pipelineKeys.publicKey && d.allowed),
      "the member was admitted by its key",
    );
    assert.ok(
      decisions.some((d) => d.clientKey === stranger.publicKey && !d.allowed),
      "the stranger's key was refused",
    );
  });

  test("a subscriber that trusts another server key never talks to the publisher", async () => {
    const publisher = await ZmqBus.open({ bind: ["tcp://127.0.0.1:*"], curve: pipelineKeys });
    closers.push(() => publisher.close());
    const impostorServer = generateCurveKeyPair();
    const misled = await ZmqBus.open({
      connect: publisher.endpoints,
      curve: { ...pipelineKeys, serverKey: impostorServer.publicKey },
    });
    closers.push(() => misled.close());
    const member = await ZmqBus.open({ connect: publisher.endpoints, curve: pipelineKeys });
    closers.push(() => member.close());
    let misledGot = 0;
    let memberGot = 0;
    misled.subscribe([TOPIC], () => misledGot++);
    member.subscribe([TOPIC], () => memberGot++);
    await waitFor(() => {
      publisher.publish(TOPIC, new Uint8Array([8, 1]));
      return memberGot >= 200;
    }, "the member to read 200 messages");
    assert.equal(misledGot, 0);
  });

  test("a stage reads the pipeline's pair from the mounted Secret's files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-bus-keys-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const other = generateCurveKeyPair();
    writeFileSync(join(dir, "public-key"), `${pipelineKeys.publicKey}\n`);
    writeFileSync(join(dir, "secret-key"), pipelineKeys.secretKey);
    assert.deepEqual(readBusCurveDir(dir), pipelineKeys);
    writeFileSync(
      join(dir, "allowed-client-keys"),
      `${pipelineKeys.publicKey}\n${other.publicKey}\n`,
    );
    assert.deepEqual(readBusCurveDir(dir).allowedClientKeys, [
      pipelineKeys.publicKey,
      other.publicKey,
    ]);
    writeFileSync(join(dir, "secret-key"), "not-a-key");
    assert.throws(() => readBusCurveDir(dir), /secret-key: not a CURVE key/);
    await assert.rejects(
      openBus({ bind: [`unix://${join(dir, "x.sock")}`], curve: pipelineKeys }),
      /CURVE keys are for ZeroMQ endpoints/,
    );
  });

  test("bad keys are refused with a clear error", async () => {
    await assert.rejects(
      ZmqBus.open({
        bind: ["tcp://127.0.0.1:*"],
        curve: { publicKey: "short", secretKey: pipelineKeys.secretKey },
      }),
      /bus curve publicKey: not a CURVE key/,
    );
    assert.throws(() => readBusCurveDir("/nonexistent-bus-keys"), /ENOENT/);
  });
});

test("the ZAP handler closes with the last publisher and comes back for the next", async () => {
  const pipelineKeys = generateCurveKeyPair();
  for (let i = 0; i < 3; i++) {
    let decided = 0;
    const publisher = await ZmqBus.open({
      bind: ["tcp://127.0.0.1:*"],
      curve: pipelineKeys,
      onAuthentication: (d) => {
        if (d.allowed) decided++;
      },
    });
    const member = await ZmqBus.open({ connect: publisher.endpoints, curve: pipelineKeys });
    let got = 0;
    member.subscribe([TOPIC], () => got++);
    await waitFor(() => {
      publisher.publish(TOPIC, new Uint8Array([8, 1]));
      return got > 0;
    }, `round ${i}: the member to read`);
    assert.equal(decided, 1, `round ${i}: the handler admitted the member`);
    await member.close();
    await publisher.close();
  }
});

test("an idle subscriber makes the publisher queue a bounded number of messages", async () => {
  const publisher = await ZmqBus.open({ bind: ["tcp://127.0.0.1:*"] });
  const idle = new Subscriber({ linger: 0, receiveHighWaterMark: 1000 });
  idle.subscribe("");
  idle.connect(publisher.endpoints[0]!);
  try {
    // A reader that proves the link is up, then stops reading.
    const probe = await ZmqBus.open({ connect: publisher.endpoints });
    let up = false;
    probe.subscribe(["bus.heartbeat"], () => {
      up = true;
    });
    await waitFor(() => {
      publisher.publish("bus.heartbeat", new Uint8Array([8, 1]));
      return up;
    }, "the link to come up");
    await probe.close();
    // The idle subscriber has not read anything yet. 100,000 messages of 1 KiB are offered.
    const payload = new Uint8Array(1024).fill(7);
    const offered = 100_000;
    for (let i = 0; i < offered; i++) publisher.publish("md.trade/AAPL", payload);
    await new Promise((r) => setTimeout(r, 500));
    // Now drain whatever was queued for it anywhere (publisher, kernel buffers, its own queue).
    let queued = 0;
    for (;;) {
      const next = await Promise.race([
        idle.receive().then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 1000)),
      ]);
      if (!next) break;
      queued++;
    }
    // Bounded by the two high-water marks plus what TCP buffers hold (a few MB), far below the
    // 100,000 an unbounded publisher would have queued.
    assert.ok(queued > 0, "the idle subscriber got the first messages");
    assert.ok(
      queued < offered / 2,
      `queued ${queued} of ${offered} (send high-water mark ${DEFAULT_SEND_HIGH_WATER_MARK})`,
    );
  } finally {
    idle.close();
    await publisher.close();
  }
});
