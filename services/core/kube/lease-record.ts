/**
 * lease-record: the pure half of Lease-based leader election (client-go's leaderelection
 * semantics): may this candidate take the Lease now, and what does it write. Time is passed in.
 */
import { ANNOTATION_FENCING_EPOCH } from "./lease-annotations.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec?: LeaseSpec;
}

export interface ElectionTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * DEFAULT_TIMING is the operator's, Kubernetes' own defaults (client-go, kube-controller-manager):
 * a leader that cannot renew for 10 s stops (the operator process exits), 5 s before anyone else
 * may take the Lease; a crashed leader is replaced 15-17.4 s after a contender last saw the Lease
 * change. A leader that stops cleanly releases the Lease and a contender takes it on its next
 * try (≤ 2.4 s). The 5 s margin covers a slow apiserver, GC pauses and timer drift.
 */
export const DEFAULT_TIMING: ElectionTiming = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/**
 * STAGE_TIMING is a stage instance's: trading resumes within about 2.6 s of a crash. The margin
 * is short (0.5 s), so every database write of a stage also carries its fencing epoch, which the
 * database refuses once a newer leader has written (sql/0003_fencing.sql).
 */
export const STAGE_TIMING: ElectionTiming = {
  leaseDurationMs: 2000,
  renewDeadlineMs: 1500,
  retryPeriodMs: 500,
};

/** validateTiming enforces client-go's rule: leaseDuration > renewDeadline > 1.2 × retryPeriod. */
export function validateTiming(t: ElectionTiming): void {
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    throw new Error(
      `lease duration (${t.leaseDurationMs} ms) must exceed the renew deadline (${t.renewDeadlineMs} ms)`,
    );
  }
  if (!(t.renewDeadlineMs > 1.2 * t.retryPeriodMs)) {
    throw new Error(
      `renew deadline (${t.renewDeadlineMs} ms) must exceed 1.2 × retry period (${t.retryPeriodMs} ms)`,
    );
  }
  if (t.leaseDurationMs < 1000)
    throw new Error("lease duration must be at least 1 s (the Lease counts whole seconds)");
}

/** toMicroTime: metav1.MicroTime wants six fractional digits; Date gives three. */
export function toMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export function fencingEpoch(lease: Pick<Lease, "metadata">): number {
  const raw = lease.metadata.annotations?.[ANNOTATION_FENCING_EPOCH];
  const n = raw === undefined ? 0 : Number.parseInt(raw, 10);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** Observation is what a candidate remembers of the Lease: its version and when it saw it change. */
export interface Observation {
  resourceVersion: string | undefined;
  observedAtMs: number;
}

export type Decision =
  | { act: "wait"; holder: string; expiresInMs: number }
  | { act: "write"; lease: Lease; acquired: boolean; epoch: number };

/**
 * decide: IMPORTANT — expiry is judged by when THIS candidate saw the record change, on its own
 * monotonic clock (`nowMs`, with `observation.observedAtMs` on the same clock), never by the
 * record's renewTime: neither clock skew between nodes nor a wall-clock step can shorten a lease.
 * `wallMs` only stamps the record's acquire and renew times, which nobody decides by.
 */
export function decide(
  current: Lease,
  observation: Observation,
  self: {
    identity: string;
    leading: boolean;
    nowMs: number;
    wallMs: number;
    leaseDurationMs: number;
  },
  annotations: ReadonlyMap<string, string | null>,
): Decision {
  const spec = current.spec ?? {};
  const holder = spec.holderIdentity ?? "";
  const heldByOther = holder !== "" && holder !== self.identity;
  if (heldByOther) {
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    const expiresInMs = observation.observedAtMs + durationMs - self.nowMs;
    if (expiresInMs > 0) return { act: "wait", holder, expiresInMs };
  }
  const renewing = holder === self.identity && self.leading;
  const now = toMicroTime(self.wallMs);
  const epoch = renewing ? fencingEpoch(current) : fencingEpoch(current) + 1;
  const merged: Record<string, string> = { ...(current.metadata.annotations ?? {}) };
  for (const [k, v] of annotations) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  merged[ANNOTATION_FENCING_EPOCH] = String(epoch);
  return {
    act: "write",
    acquired: !renewing,
    epoch,
    lease: {
      ...current,
      metadata: { ...current.metadata, annotations: merged },
      spec: {
        holderIdentity: self.identity,
        leaseDurationSeconds: Math.ceil(self.leaseDurationMs / 1000),
        acquireTime: renewing ? (spec.acquireTime ?? now) : now,
        renewTime: now,
        leaseTransitions: renewing
          ? (spec.leaseTransitions ?? 0)
          : (spec.leaseTransitions ?? 0) + (holder === "" && !spec.acquireTime ? 0 : 1),
      },
    },
  };
}

/** released: what a leader writes when it stops cleanly, so a contender needn't wait. */
export function released(current: Lease, nowMs: number): Lease {
  const now = toMicroTime(nowMs);
  return {
    ...current,
    spec: {
      ...current.spec,
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
    },
  };
}
