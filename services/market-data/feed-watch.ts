/**
 * FeedWatch is the market-data stage's periodic check of its feed, run from one timer: it records
 * whether frames arrived since the last check (a counter bumped on the hot path, so a frame costs
 * an increment and no clock read), asks the core's heartbeat logic what to do about silence, and
 * computes the readiness and staleness the shell exposes.
 */
import {
  type HeartbeatAction,
  type HeartbeatPolicy,
  type HeartbeatState,
  heartbeatAction,
  isStale,
  newHeartbeat,
  onFrame,
} from "./core/heartbeat.ts";

export interface FeedWatchOptions {
  /** The feed counts as stale (not ready) after this much silence. */
  staleAfterNs: bigint;
  policy: HeartbeatPolicy;
}

export interface FeedCheck {
  action: HeartbeatAction;
  /** The feed delivered a frame within `staleAfterNs`. */
  fresh: boolean;
  silenceNs: bigint;
}

export class FeedWatch {
  /** frames counts received frames; the stream handler bumps it. */
  frames = 0;
  readonly #opts: FeedWatchOptions;
  readonly #hb: HeartbeatState;
  #framesAtCheck = 0;
  readonly #check: FeedCheck = { action: "ok", fresh: true, silenceNs: 0n };

  constructor(nowNs: bigint, options: FeedWatchOptions) {
    this.#opts = options;
    this.#hb = newHeartbeat(nowNs);
  }

  /** restart treats a new connection as a frame: silence is counted from it. */
  restart(nowNs: bigint): void {
    onFrame(this.#hb, nowNs);
  }

  check(nowNs: bigint): FeedCheck {
    if (this.frames !== this.#framesAtCheck) {
      this.#framesAtCheck = this.frames;
      onFrame(this.#hb, nowNs);
    }
    const c = this.#check;
    c.silenceNs = nowNs - this.#hb.lastFrameNs;
    c.fresh = !isStale(this.#hb.lastFrameNs, nowNs, this.#opts.staleAfterNs);
    c.action = heartbeatAction(this.#hb, nowNs, this.#opts.policy);
    if (c.action === "reconnect") onFrame(this.#hb, nowNs);
    return c;
  }
}
