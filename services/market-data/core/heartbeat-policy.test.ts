/** The heartbeat's default policy, late frames, and the one-ping rule at time zero. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_HEARTBEAT, heartbeatAction, newHeartbeat, onFrame } from "./heartbeat.ts";

const S = 1_000_000_000n;
const policy = { pingAfterNs: 10n * S, reconnectAfterNs: 15n * S };

describe("heartbeat policy", () => {
  it("by default pings after 10 s of silence and reconnects after 15 s", () => {
    const hb = newHeartbeat(0n);
    assert.equal(heartbeatAction(hb, 10n * S - 1n), "ok");
    assert.equal(heartbeatAction(hb, 10n * S), "ping");
    assert.equal(heartbeatAction(hb, 15n * S - 1n), "ok");
    assert.equal(heartbeatAction(hb, 15n * S), "reconnect");
    assert.deepEqual(DEFAULT_HEARTBEAT, policy);
  });

  it("a frame stamped earlier than the last one does not age the connection", () => {
    const hb = newHeartbeat(0n);
    onFrame(hb, 10n * S);
    onFrame(hb, 2n * S);
    assert.equal(heartbeatAction(hb, 16n * S, policy), "ok");
  });

  it("one ping at a time, even one sent at time zero", () => {
    const hb = newHeartbeat(0n);
    const eager = { pingAfterNs: 0n, reconnectAfterNs: 10n * S };
    assert.equal(heartbeatAction(hb, 0n, eager), "ping");
    assert.equal(heartbeatAction(hb, 1n, eager), "ok");
  });
});
