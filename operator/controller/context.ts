/**
 * context: what a reconcile step may use — the API client, the informer caches, an event
 * recorder, the clock — and what the steps of one reconcile tell each other (Observed).
 */

import type { KubeClient } from "../../services/core/kube/client.ts";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import type { Logger } from "../../services/core/telemetry/index.ts";
import type { KubeObject } from "../kube/apply.ts";
import type { Informer } from "../kube/informer.ts";
import type { ResourceKind } from "../kube/resources.ts";
import type { PatroniView } from "../postgres/patroni-state.ts";
import type { NetworkSettings } from "../specs/network-policy.ts";
import type { WrittenRecord } from "./ensure.ts";
import type { EventRecorder } from "./events.ts";

export type Caches = Record<Exclude<ResourceKind, "Event" | "Secret">, Informer>;

export interface ReconcileContext {
  client: KubeClient;
  caches: Caches;
  recorder: EventRecorder;
  log: Logger;
  now(): number;
  /** How long a deleted pipeline waits for the execution stage to report halted. */
  haltTimeoutMs: number;
  /**
   * Counts applies made, skipped (unchanged digest, no drift) and made to repair an object
   * someone else changed, for metrics, benchmarks and tests.
   */
  stats: { applied: number; skipped: number; repaired: number };
  /** Objects known to exist that are created once and never read (Secrets). */
  created: Set<string>;
  /** What the operator's own applies returned, per object: drift is anything else. */
  written: Map<string, WrittenRecord>;
  network: NetworkSettings;
}

/** Observed collects what one reconcile learned, for the status step. */
export interface Observed {
  tp: TradingPipeline;
  /** The raw object (resourceVersion, finalizers, deletionTimestamp). */
  raw: KubeObject;
  database: {
    primary?: string;
    ready: boolean;
    /** DatabaseReady's reason: LeaderRunning, RestartPending, RollingOut, NoLeader or Provisioning. */
    reason?: string;
    message: string;
    failover?: { from: string; to: string; reason: string; time: string };
    /**
     * A switchover Patroni accepted (status.switchover): set when asked, null once the leader
     * changed, undefined to keep what the status says.
     */
    switchover?: { from: string; to: string; time: string } | null;
    /** Patroni's view (leader, members, lag, timeline), for status.database. */
    patroni?: PatroniView;
    /**
     * While database pods run an older template: what the rollout does or waits for
     * (DatabaseReady's reason is then RollingOut, with this in its message).
     */
    rollout?: string;
  };
  rollingOut: string[];
  /** Set by a step that wants another look sooner than the resync. */
  requeueAfterMs?: number;
}

/**
 * observeWrite puts the apiserver's answer to one of the operator's own writes into the
 * informer cache of its kind, so the next reconcile reads what this one wrote (read-your-writes)
 * even before the watch delivers it.
 */
export function observeWrite(ctx: ReconcileContext, written: KubeObject): void {
  ctx.caches[written.kind as keyof Caches]?.observe(written);
}

export function requeueSoon(observed: Observed, ms: number): void {
  observed.requeueAfterMs = Math.min(observed.requeueAfterMs ?? Number.POSITIVE_INFINITY, ms);
}
