import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { heartbeatAction, isStale, newHeartbeat, onFrame } from "./heartbeat.ts";

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
});
