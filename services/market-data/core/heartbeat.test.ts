import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_HEARTBEAT, heartbeatAction, isStale, newHeartbeat, onFrame } from "./heartbeat.ts";

const S = 1_000_000_000n;
const policy = { pingAfterNs: 10n * S, reconnectAfterNs: 15n * S };

describe("heartbeat", () => {
  it("is ok while frames arrive, pings once after silence, reconnects after more", () => {
    const hb = newHeartbeat(0n);
    assert.equal(heartbeatAction(hb, 5n * S, policy), "ok");
    onFrame(hb, 6n * S);
    assert.equal(heartbeatAction(hb, 15n * S, policy), "ok");
    assert.equal(heartbeatAction(hb, 16n * S, policy), "ping");
    assert.equal(heartbeatAction(hb, 17n * S, policy), "ok", "one ping outstanding at a time");
    assert.equal(heartbeatAction(hb, 21n * S, policy), "reconnect");
  });

  it("a pong (any frame) clears the outstanding ping", () => {
    const hb = newHeartbeat(0n);
    assert.equal(heartbeatAction(hb, 10n * S, policy), "ping");
    onFrame(hb, 11n * S);
    assert.equal(hb.pingSentNs, -1n);
    assert.equal(heartbeatAction(hb, 21n * S, policy), "ping");
  });

  it("isStale compares age to a limit", () => {
    assert.equal(isStale(0n, 5n, 5n), false);
    assert.equal(isStale(0n, 6n, 5n), true);
  });

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
