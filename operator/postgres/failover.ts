/**
 * failover: which Postgres pod is primary, decided from what the operator observes. Pure:
 * evaluateDatabaseRoles decides, controller/steps.ts applies (labels, status, Events).
 *
 * Rules:
 * 1. No primary yet: the lowest ordinal becomes primary, the others replicas.
 * 2. The primary, once it has served, is unavailable (gone, or not Ready) for
 *    failoverDelaySeconds or longer, and a replica is Ready: the old primary is fenced (its agent stops Postgres; the rw Service no
 *    longer selects it), the Ready replica with the lowest ordinal is promoted, and the
 *    failover is recorded. Before the delay has passed: check again when it will have.
 * 3. A switchover request names a Ready replica: the same steps, reason Switchover.
 * 4. A fenced pod is deleted once the new primary is Ready; the StatefulSet recreates it and
 *    it comes back as a replica (its agent rewinds it onto the new primary).
 * 5. Pods without a role (new or recreated) become replicas once a primary exists.
 */
import type { DbRole } from "./resources.ts";

export interface DbPodView {
  name: string;
  ordinal: number;
  ready: boolean;
  role: DbRole | undefined;
  /** Since when the pod has been not Ready (the Ready condition's lastTransitionTime), ms. */
  notReadySinceMs: number | undefined;
  deleting: boolean;
}

export interface DbRoleInput {
  pods: readonly DbPodView[];
  /** status.primary as last recorded. */
  recordedPrimary: string | undefined;
  /**
   * Whether the recorded primary has been Ready since it was chosen. A primary that never
   * served has nothing a standby could have copied, so it is not failed over.
   */
  primaryHasServed: boolean;
  failoverDelaySeconds: number;
  switchoverTo: string | undefined;
  nowMs: number;
}

export interface DbRoleDecision {
  primary: string | undefined;
  /** Role labels to set (only those that differ from the pods' current ones). */
  labels: { pod: string; role: DbRole }[];
  /** Pods to delete (fenced pods whose replacement primary is Ready). */
  deletePods: string[];
  failover?: { from: string; to: string; reason: "PrimaryUnavailable" | "Switchover" };
  /** Check again after this many ms (a failover deadline still running). */
  requeueAfterMs?: number;
  /** Why no primary is available, when none is. */
  waiting?: string;
}

export function evaluateDatabaseRoles(input: DbRoleInput): DbRoleDecision {
  const pods = [...input.pods].sort((a, b) => a.ordinal - b.ordinal);
  const byName = new Map(pods.map((p) => [p.name, p]));
  const labelled = pods.find((p) => p.role === "primary");
  // The recorded primary wins over a pod's label: right after a failover the cache may still
  // show the old primary's label, and trusting it would undo the failover.
  let primary = input.recordedPrimary ?? labelled?.name;
  const roles = new Map<string, DbRole>();
  let failover: DbRoleDecision["failover"];
  let requeueAfterMs: number | undefined;

  if (!primary) {
    const first = pods.find((p) => !p.deleting);
    if (!first)
      return { primary: undefined, labels: [], deletePods: [], waiting: "no database pods yet" };
    primary = first.name;
  }
  const current = byName.get(primary);
  const readyReplicas = pods.filter((p) => p.name !== primary && p.ready && p.role === "replica");
  const switchTarget = input.switchoverTo
    ? readyReplicas.find((p) => p.name === input.switchoverTo)
    : undefined;
  const unavailableForMs =
    !current || current.deleting
      ? Number.POSITIVE_INFINITY
      : current.ready
        ? 0
        : input.nowMs - (current.notReadySinceMs ?? input.nowMs);
  const delayMs = input.failoverDelaySeconds * 1000;
  // A primary that never served cannot fail over: nothing was cloned from it.
  const primaryDown =
    unavailableForMs > 0 &&
    input.primaryHasServed &&
    (current === undefined ? input.recordedPrimary !== undefined : current.role === "primary");

  if (switchTarget && current?.ready) {
    failover = { from: primary, to: switchTarget.name, reason: "Switchover" };
  } else if (primaryDown) {
    if (unavailableForMs >= delayMs) {
      const candidate = readyReplicas[0];
      if (candidate) failover = { from: primary, to: candidate.name, reason: "PrimaryUnavailable" };
    } else {
      requeueAfterMs = delayMs - unavailableForMs;
    }
  }
  if (failover) {
    roles.set(failover.from, "fenced");
    primary = failover.to;
  }
  roles.set(primary, "primary");
  const primaryReady = byName.get(primary)?.ready === true && !failover;
  const deletePods: string[] = [];
  for (const p of pods) {
    if (roles.has(p.name)) continue;
    // A pod still labelled primary that is not the primary (a stale view right after a
    // failover) may still accept writes: it is fenced, never made a replica.
    if (p.role === "fenced" || p.role === "primary") {
      roles.set(p.name, "fenced");
      if (primaryReady && !p.deleting) deletePods.push(p.name);
    } else {
      roles.set(p.name, "replica");
    }
  }
  const labels = pods
    .filter((p) => roles.get(p.name) !== p.role)
    .map((p) => ({ pod: p.name, role: roles.get(p.name) as DbRole }));
  return {
    primary,
    labels,
    deletePods,
    ...(failover ? { failover } : {}),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
    ...(byName.get(primary)?.ready ? {} : { waiting: `primary ${primary} is not ready` }),
  };
}
