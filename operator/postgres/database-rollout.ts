/**
 * database-rollout: how a change of the database pod template (image, resources, Patroni's
 * configuration) reaches running Postgres pods, decided purely. The StatefulSet is OnDelete, so
 * nothing replaces a pod by itself; the operator does, in Patroni's order:
 *
 * 1. outdated replicas first, one at a time, each only while every replica already replaced is
 *    a streaming, caught-up member of the leader's timeline (Patroni's view) and its pod is
 *    Ready, so the cluster never has more than one member rebuilding;
 * 2. then a switchover (Patroni's REST API, asked once) to an updated, streaming, caught-up
 *    replica — in synchronous mode only the synchronous standby, which Patroni alone would
 *    accept;
 * 3. the old leader's pod only after Patroni moved the leader away: it is then an outdated
 *    replica like any other (step 1).
 *
 * IMPORTANT: the leader's pod is never deleted while the cluster has more than one instance; a
 * single instance is restarted in place, with the downtime that costs, and the plan says so.
 */
import { MAXIMUM_LAG_ON_FAILOVER } from "./patroni-settings.ts";
import type { PatroniMember, PatroniView } from "./patroni-state.ts";

/**
 * CAUGHT_UP_BYTES: a replica at most this far behind the leader's last reported WAL position
 * counts as caught up: Patroni's maximum_lag_on_failover, beyond which Patroni itself refuses
 * to promote it. Positions are what each member last wrote on its pod (every HA loop), so under
 * write load a healthy replica shows some bytes of lag.
 */
export const CAUGHT_UP_BYTES = MAXIMUM_LAG_ON_FAILOVER;

/** SWITCHOVER_RETRY_MS: a switchover Patroni accepted but that left the leader in place is asked again after this long. */
export const SWITCHOVER_RETRY_MS = 60_000;

export interface DatabasePod {
  name: string;
  /** The pod's controller-revision-hash label. */
  revision: string | undefined;
  deleting: boolean;
  /** The pod's Ready condition: its kubelet's view of Patroni's /readiness. */
  ready: boolean;
}

export interface DatabaseRolloutInput {
  /** The StatefulSet's status.updateRevision: the revision of its current template. */
  updateRevision: string | undefined;
  /** False until the StatefulSet controller has observed the latest template. */
  statusCurrent: boolean;
  instances: number;
  synchronous: boolean;
  pods: readonly DatabasePod[];
  view: PatroniView;
  /** A switchover asked through the pipeline's annotation, not yet consumed: it goes first. */
  requestedSwitchover?: string | undefined;
  /** A switchover Patroni accepted and the operator has not yet seen happen (status.switchover). */
  pendingSwitchover?: { from: string; to: string; ageMs: number } | undefined;
}

export type DatabaseRolloutPlan =
  /** Every pod runs the StatefulSet's current template. */
  | { action: "none" }
  /**
   * Something must happen first (said in `reason`, shown in DatabaseReady's message unless
   * `quiet`: no rollout is known to be under way).
   */
  | { action: "wait"; reason: string; quiet?: boolean }
  | { action: "delete"; pod: string; reason: string; downtime: boolean }
  /** Ask Patroni to move the leader; `candidates` are the updated replicas fit to take over. */
  | { action: "switchover"; leader: string; candidates: string[]; reason: string };

/**
 * rejoined: a replica that streams from the leader on the leader's timeline and is caught up —
 * what a replaced member must become before the next pod may go.
 */
export function rejoined(member: PatroniMember | undefined, leader: PatroniMember): boolean {
  return (
    member !== undefined &&
    member.role === "replica" &&
    member.state === "running" &&
    member.replicationState === "streaming" &&
    member.timeline !== undefined &&
    member.timeline === leader.timeline &&
    member.lagBytes !== undefined &&
    member.lagBytes <= CAUGHT_UP_BYTES
  );
}

function describe(member: PatroniMember | undefined, name: string): string {
  if (!member?.state) return `${name} has not reported to Patroni yet`;
  const parts = [member.state];
  if (member.replicationState) parts.push(member.replicationState);
  if (member.timeline !== undefined) parts.push(`timeline ${member.timeline}`);
  if (member.lagBytes !== undefined) parts.push(`${member.lagBytes} B behind`);
  return `${name} is ${parts.join(", ")}`;
}

/** ordinal: the StatefulSet ordinal at the end of a pod name (-1 when there is none). */
function ordinal(name: string): number {
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

export function planDatabaseRollout(input: DatabaseRolloutInput): DatabaseRolloutPlan {
  const { updateRevision, view } = input;
  // Nothing is known to be outdated until the StatefulSet controller has seen the template: look
  // again soon, without claiming a rollout (every apply of the StatefulSet passes through here).
  if (!input.statusCurrent || !updateRevision)
    return {
      action: "wait",
      reason: "the StatefulSet controller has not seen the latest template",
      quiet: true,
    };
  const outdated = input.pods.filter((p) => p.revision !== updateRevision);
  if (outdated.length === 0) return { action: "none" };
  const rolling = `rolling the database onto revision ${updateRevision} (${outdated.length} of ${input.instances} pods outdated)`;
  const wait = (why: string): DatabaseRolloutPlan => ({
    action: "wait",
    reason: `${rolling}: ${why}`,
  });
  const deleting = input.pods.find((p) => p.deleting);
  if (deleting) return wait(`waiting for ${deleting.name} to terminate`);
  if (input.pods.length < input.instances) return wait("waiting for a replaced pod to be created");
  const members = new Map(view.members.map((m) => [m.name, m]));
  const leader = view.leader ? members.get(view.leader) : undefined;
  if (input.instances === 1) {
    const only = outdated[0] as DatabasePod;
    return {
      action: "delete",
      pod: only.name,
      downtime: true,
      reason: `${rolling}: single instance, restarting ${only.name} with downtime (no replica to hand over to)`,
    };
  }
  if (!leader) return wait("Patroni reports no leader; nothing is replaced until it does");
  if (input.requestedSwitchover)
    return wait(`a switchover to ${input.requestedSwitchover} was asked for; it goes first`);
  const pending = input.pendingSwitchover;
  if (pending && pending.from === leader.name && pending.ageMs < SWITCHOVER_RETRY_MS)
    return wait(
      `waiting for Patroni to hand the leader over from ${pending.from} to ${pending.to}`,
    );
  // One member rebuilding at a time: every replica on the current template must have rejoined
  // before another pod goes (an outdated one that is unwell may itself be what needs replacing).
  const updatedReplicas = input.pods.filter(
    (p) => p.revision === updateRevision && p.name !== leader.name,
  );
  const lagging = updatedReplicas.find((p) => !p.ready || !rejoined(members.get(p.name), leader));
  if (lagging)
    return wait(
      `waiting for ${lagging.name} to rejoin as a streaming, caught-up replica (${describe(members.get(lagging.name), lagging.name)}${lagging.ready ? "" : ", pod not Ready"})`,
    );
  // An outdated replica that is unwell goes first (it serves nobody now); then the highest
  // ordinal, as a StatefulSet rolls.
  const unwell = (p: DatabasePod) => (rejoined(members.get(p.name), leader) ? 1 : 0);
  const replica = outdated
    .filter((p) => p.name !== leader.name)
    .sort((a, b) => unwell(a) - unwell(b) || ordinal(b.name) - ordinal(a.name))[0];
  if (replica)
    return {
      action: "delete",
      pod: replica.name,
      downtime: false,
      reason: `${rolling}: replacing replica ${replica.name}`,
    };
  // Only the leader is left on the old template: hand over to an updated replica first.
  const candidates = updatedReplicas
    .map((p) => p.name)
    .sort((a, b) => (members.get(a)?.lagBytes ?? 0) - (members.get(b)?.lagBytes ?? 0));
  if (candidates.length === 0)
    return wait(`no updated replica is streaming to take over from ${leader.name}`);
  return {
    action: "switchover",
    leader: leader.name,
    candidates,
    reason: `${rolling}: switching the leader over from ${leader.name} before its pod is replaced`,
  };
}

/**
 * chooseCandidate: which of `candidates` to name in the switchover, from Patroni's own cluster
 * view (GET /cluster on the leader): in synchronous mode only its synchronous standby (Patroni
 * refuses any other), else the first candidate Patroni also sees streaming. Undefined: none is
 * fit now, with the reason.
 */
export function chooseCandidate(
  candidates: readonly string[],
  cluster: readonly { name: string; role?: string; state?: string }[],
  synchronous: boolean,
): { candidate: string } | { none: string } {
  const seen = new Map(cluster.map((m) => [m.name, m]));
  for (const name of candidates) {
    const m = seen.get(name);
    if (m?.state !== "streaming") continue;
    if (synchronous && m.role !== "sync_standby") continue;
    return { candidate: name };
  }
  return {
    none: synchronous
      ? `none of ${candidates.join(", ")} is Patroni's synchronous standby yet`
      : `Patroni sees none of ${candidates.join(", ")} streaming`,
  };
}
