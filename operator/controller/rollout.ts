/**
 * rollout: the operator rolls stage pods itself (their StatefulSets use OnDelete): one pod at a
 * time, standbys first, the leader last and only once an updated standby is running to take
 * over, so a spec change costs one leadership hand-over per stage. planRollout decides (pure);
 * reconcileRollout deletes the chosen pod.
 */

import type { StageProcess } from "../../services/pipeline/stages.ts";
import { LABEL_PIPELINE, LABEL_STAGE, stageLeaseName } from "../api/names.ts";
import { deleteObject, type KubeObject } from "../kube/apply.ts";
import { buildStageWorkloads } from "../specs/stage-workload.ts";
import { type Observed, type ReconcileContext, requeueSoon } from "./context.ts";

export interface RolloutPod {
  name: string;
  revision: string | undefined;
  running: boolean;
  deleting: boolean;
}

export type RolloutPlan =
  | { action: "none" }
  | { action: "wait"; reason: string }
  | { action: "delete"; pod: string; leader: boolean };

export function planRollout(input: {
  updateRevision: string | undefined;
  /** False until the StatefulSet controller has seen the latest spec. */
  statusCurrent: boolean;
  replicas: number;
  pods: readonly RolloutPod[];
  leaderPods: ReadonlySet<string>;
}): RolloutPlan {
  if (!input.statusCurrent || !input.updateRevision)
    return { action: "wait", reason: "statefulset status not current" };
  const outdated = input.pods.filter((p) => p.revision !== input.updateRevision);
  if (outdated.length === 0) return { action: "none" };
  if (input.pods.some((p) => p.deleting)) return { action: "wait", reason: "a pod is terminating" };
  if (input.pods.length < input.replicas)
    return { action: "wait", reason: "a pod is being created" };
  const standby = outdated.find((p) => !input.leaderPods.has(p.name));
  if (standby) return { action: "delete", pod: standby.name, leader: false };
  const updatedRunning = input.pods.some((p) => p.revision === input.updateRevision && p.running);
  if (!updatedRunning && input.replicas > 1) {
    return { action: "wait", reason: "no updated standby is running yet" };
  }
  const leader = outdated[0] as RolloutPod;
  return { action: "delete", pod: leader.name, leader: true };
}

/** leaderPodOf: a Lease holder is "<pod>" or "<pod>/<pid>/<stage>"; the pod is the first part. */
export function leaderPodOf(lease: KubeObject | undefined): string | undefined {
  const holder = (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  return holder ? holder.split("/")[0] : undefined;
}

export async function reconcileRollout(ctx: ReconcileContext, o: Observed): Promise<void> {
  const ns = o.tp.metadata.namespace ?? "default";
  for (const desired of buildStageWorkloads(o.tp)) {
    const sts = ctx.caches.StatefulSet.get(ns, desired.metadata.name);
    if (!sts) continue;
    const status = (sts.status ?? {}) as { observedGeneration?: number; updateRevision?: string };
    const stage = desired.metadata.labels[LABEL_STAGE] as StageProcess | "all";
    const pods = ctx.caches.Pod.list(
      (p) =>
        p.metadata.namespace === ns &&
        p.metadata.labels?.[LABEL_PIPELINE] === o.tp.metadata.name &&
        p.metadata.labels?.[LABEL_STAGE] === stage &&
        p.metadata.ownerReferences?.some((r) => r.uid === sts.metadata.uid) === true,
    );
    const leases =
      stage === "all"
        ? ([
            "market-data",
            "signal-bridge",
            "risk-manager",
            "execution-engine",
            "position-tracker",
          ] as const)
        : [stage];
    const leaderPods = new Set(
      leases
        .map((s) => leaderPodOf(ctx.caches.Lease.get(ns, stageLeaseName(o.tp.metadata.name, s))))
        .filter((p): p is string => Boolean(p)),
    );
    const plan = planRollout({
      updateRevision: status.updateRevision,
      statusCurrent: (status.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0),
      replicas: (sts.spec as { replicas?: number }).replicas ?? 1,
      pods: pods.map((p) => ({
        name: p.metadata.name,
        revision: p.metadata.labels?.["controller-revision-hash"],
        running: (p.status as { phase?: string })?.phase === "Running",
        deleting: Boolean(p.metadata.deletionTimestamp),
      })),
      leaderPods,
    });
    if (plan.action === "none") continue;
    o.rollingOut.push(desired.metadata.name);
    if (plan.action === "wait") {
      requeueSoon(o, 1000);
      continue;
    }
    const uid = pods.find((p) => p.metadata.name === plan.pod)?.metadata.uid;
    await deleteObject(ctx.client, "Pod", ns, plan.pod, uid);
    ctx.recorder.event(
      o.raw,
      "Normal",
      "RollingStage",
      `restarting ${plan.leader ? "leader" : "standby"} ${plan.pod} onto revision ${status.updateRevision}`,
    );
    requeueSoon(o, 1000);
  }
}
