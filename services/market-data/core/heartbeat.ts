/**
 * Heartbeat decides, from the time of the last frame received and the time now (both passed in
 * by the shell), whether the feed connection is healthy, should be probed with a ping, or should
 * be dropped and reconnected. The shell's timer calls `heartbeatAction` and carries it out.
 */

export interface HeartbeatPolicy {
  /** Silence after which the shell sends a ping (WebSocket ping frame). */
  readonly pingAfterNs: bigint;
  /** Silence after which the connection is considered dead and is reconnected. */
  readonly reconnectAfterNs: bigint;
}

export interface HeartbeatState {
  lastFrameNs: bigint;
  /** When the last ping was sent, or -1n when none is outstanding. */
  pingSentNs: bigint;
}

export type HeartbeatAction = "ok" | "ping" | "reconnect";

/** DEFAULT_HEARTBEAT pings after 10 s of silence and reconnects after 15 s (Alpaca SDK habits). */
export const DEFAULT_HEARTBEAT: HeartbeatPolicy = {
  pingAfterNs: 10_000_000_000n,
  reconnectAfterNs: 15_000_000_000n,
};

export function newHeartbeat(nowNs: bigint): HeartbeatState {
  return { lastFrameNs: nowNs, pingSentNs: -1n };
}

/** onFrame records any received frame or pong: the connection is alive. */
export function onFrame(hb: HeartbeatState, nowNs: bigint): void {
  if (nowNs > hb.lastFrameNs) hb.lastFrameNs = nowNs;
  hb.pingSentNs = -1n;
}

/** heartbeatAction says what to do now; a "ping" answer also records that the ping was sent. */
export function heartbeatAction(
  hb: HeartbeatState,
  nowNs: bigint,
  policy: HeartbeatPolicy = DEFAULT_HEARTBEAT,
): HeartbeatAction {
  const silence = nowNs - hb.lastFrameNs;
  if (silence >= policy.reconnectAfterNs) return "reconnect";
  if (silence >= policy.pingAfterNs && hb.pingSentNs < 0n) {
    hb.pingSentNs = nowNs;
    return "ping";
  }
  return "ok";
}

/** isStale says whether data last seen at `lastSeenNs` is older than `maxAgeNs` at `nowNs`. */
export function isStale(lastSeenNs: bigint, nowNs: bigint, maxAgeNs: bigint): boolean {
  return nowNs - lastSeenNs > maxAgeNs;
}
