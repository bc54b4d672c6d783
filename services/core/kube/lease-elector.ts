/**
 * lease-elector: leader election on a coordination.k8s.io Lease, with a fencing epoch.
 * Used by the operator (one active replica) and meant for the stage host in a cluster (one
 * active instance per stage, TRADEPIPE_STAGE_LEASE names its Lease). Each acquisition bumps the
 * Lease annotation tradepipe.io/fencing-epoch; the leader stamps that epoch on its writes.
 *
 * Loop (client-go semantics): try to acquire every retryPeriod (+jitter) until the Lease is free
 * or expired; once leading, renew every retryPeriod; if no renewal has succeeded for
 * renewDeadline, leadership is lost (`signal` aborts) and the elector goes back to acquiring.
 * release() gives the Lease up at once so a contender needn't wait for expiry.
 *
 * IMPORTANT: every duration is measured on the monotonic clock (performance.now), and the
 * renew deadline is a timer armed from the START of the last successful attempt: a renewal that
 * hangs ends leadership on time rather than when the hung request returns.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isStatus, type KubeClient } from "./client.ts";
import {
  DEFAULT_TIMING,
  decide,
  type ElectionTiming,
  type Lease,
  type Observation,
  released,
  validateTiming,
} from "./lease-record.ts";

export interface Leadership {
  epoch: number;
  /** Aborted when leadership is lost or released: stop the guarded work at once. */
  signal: AbortSignal;
}

export interface LeaseElectorOptions extends Partial<ElectionTiming> {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  /** Create the Lease when it is missing (default true; stage Leases are made by the operator). */
  create?: boolean;
  /** Labels for a Lease this elector creates. */
  labels?: Record<string, string>;
  onStartedLeading?(leadership: Leadership): void;
  onStoppedLeading?(reason: string): void;
  /** Every Lease read, e.g. for the operator's kill-switch annotation. */
  onObserved?(lease: Lease): void;
  onError?(err: Error): void;
  /** The monotonic clock in ms (default performance.now); tests pass their own. */
  now?(): number;
}

export class LeaseElector {
  readonly timing: ElectionTiming;
  private readonly opts: LeaseElectorOptions;
  private readonly pendingAnnotations = new Map<string, string | null>();
  private observation: Observation = { resourceVersion: undefined, observedAtMs: 0 };
  private leading: AbortController | undefined;
  private currentEpoch = 0;
  private deadline: NodeJS.Timeout | undefined;
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(opts: LeaseElectorOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => performance.now());
    this.timing = {
      leaseDurationMs: opts.leaseDurationMs ?? DEFAULT_TIMING.leaseDurationMs,
      renewDeadlineMs: opts.renewDeadlineMs ?? DEFAULT_TIMING.renewDeadlineMs,
      retryPeriodMs: opts.retryPeriodMs ?? DEFAULT_TIMING.retryPeriodMs,
    };
    validateTiming(this.timing);
  }

  get isLeader(): boolean {
    return this.leading !== undefined && !this.leading.signal.aborted;
  }

  get epoch(): number {
    return this.currentEpoch;
  }

  /** setAnnotation writes (or, with null, removes) an annotation with the next renewal. */
  setAnnotation(key: string, value: string | null): void {
    this.pendingAnnotations.set(key, value);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** release stops electing and, if leading, gives the Lease up. */
  async release(): Promise<void> {
    this.stopped.abort();
    await this.loop;
    if (!this.leading) return;
    this.loseLeadership("released");
    try {
      const lease = await this.get();
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        await this.put(released(lease, Date.now()));
      }
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
  }

  /** path: the namespace's Leases, or one of them. */
  private path(name?: string) {
    const leases = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/leases`;
    return name ? `${leases}/${encodeURIComponent(name)}` : leases;
  }

  private async get(): Promise<Lease | undefined> {
    try {
      return await this.opts.client.request<Lease>("GET", this.path(this.opts.name), {
        signal: AbortSignal.timeout(this.timing.renewDeadlineMs),
      });
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  private put(lease: Lease): Promise<Lease> {
    return this.opts.client.request<Lease>("PUT", this.path(this.opts.name), {
      body: lease,
      signal: AbortSignal.timeout(this.timing.renewDeadlineMs),
    });
  }

  /** tryAcquireOrRenew: one attempt; true when this candidate leads afterwards. */
  private async tryAcquireOrRenew(nowMs: number): Promise<boolean> {
    let lease = await this.get();
    if (!lease) {
      if (this.opts.create === false) return false;
      lease = await this.opts.client.request<Lease>("POST", this.path(), {
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {
            name: this.opts.name,
            namespace: this.opts.namespace,
            ...(this.opts.labels ? { labels: this.opts.labels } : {}),
          },
          spec: {},
        },
      });
    }
    this.opts.onObserved?.(lease);
    if (lease.metadata.resourceVersion !== this.observation.resourceVersion) {
      // IMPORTANT: seen when the answer arrived, not when the attempt began: a read that took
      // seconds may show a renewal made long after it was sent, and dating it back would cut
      // the holder's lease short by as much.
      this.observation = {
        resourceVersion: lease.metadata.resourceVersion,
        observedAtMs: this.now(),
      };
    }
    const decision = decide(
      lease,
      this.observation,
      {
        identity: this.opts.identity,
        leading: this.isLeader,
        nowMs,
        wallMs: Date.now(),
        leaseDurationMs: this.timing.leaseDurationMs,
      },
      this.pendingAnnotations,
    );
    if (decision.act === "wait") return false;
    let written: Lease;
    try {
      written = await this.put(decision.lease);
    } catch (err) {
      if (isStatus(err, 409)) return false; // someone else wrote first: observe again
      throw err;
    }
    for (const [k, v] of decision.lease.metadata.annotations ? this.pendingAnnotations : []) {
      const now = decision.lease.metadata.annotations?.[k];
      if ((v === null && now === undefined) || now === v) this.pendingAnnotations.delete(k);
    }
    this.observation = { resourceVersion: written.metadata.resourceVersion, observedAtMs: nowMs };
    this.currentEpoch = decision.epoch;
    return true;
  }

  private async run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.timing;
    while (!this.stopped.signal.aborted) {
      let ok = false;
      const attemptStartedMs = this.now();
      try {
        ok = await this.tryAcquireOrRenew(attemptStartedMs);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
      if (ok && !this.stopped.signal.aborted) {
        // Others count the lease from when they saw our write, which is after this attempt
        // began: measuring from the start keeps the deadline on the safe side.
        const remainingMs = attemptStartedMs + renewDeadlineMs - this.now();
        if (remainingMs <= 0) {
          this.loseLeadership("renew deadline passed");
        } else {
          if (!this.isLeader) {
            this.leading = new AbortController();
            this.opts.onStartedLeading?.({
              epoch: this.currentEpoch,
              signal: this.leading.signal,
            });
          }
          clearTimeout(this.deadline);
          this.deadline = setTimeout(
            () => this.loseLeadership("renew deadline passed"),
            remainingMs,
          );
          this.deadline.unref();
        }
      }
      const wait = this.isLeader ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * 0.2);
      await sleep(wait, undefined, { signal: this.stopped.signal }).catch(() => {});
    }
  }

  private loseLeadership(reason: string): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    if (!this.leading) return;
    const was = this.leading;
    this.leading = undefined;
    was.abort(new Error(reason));
    this.opts.onStoppedLeading?.(reason);
  }
}
