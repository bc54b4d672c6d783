/**
 * database: the Postgres step — carry out evaluateDatabaseRoles' decision: role labels on the pods, deletion of fenced pods, and the
 * failover record (status and an Event).
 */
import { toRfc3339 } from "../api/conditions.ts";
import { LABEL_COMPONENT, LABEL_DB_ROLE, LABEL_PIPELINE } from "../api/names.ts";
import { deleteObject, type KubeObject, serverSideApply } from "../kube/apply.ts";
import { type DbPodView, type DbRole, evaluateDatabaseRoles } from "../postgres/index.ts";
import { type Observed, type ReconcileContext, requeueSoon } from "./context.ts";

/**
 * The failover this operator last decided, per pipeline (uid). The operator is the only writer
 * of status.primary and status.lastFailover, but its informer cache can lag its own write: a
 * reconcile that still saw the replaced primary there would put it back, and one that wrote the
 * status from the stale copy would drop lastFailover. While the cache shows the replaced
 * primary, the decided failover stands; once it shows anything else, the cache has caught up
 * and the memo goes.
 */
type Failover = NonNullable<Observed["database"]["failover"]>;
const decidedFailover = new Map<string, Failover>();

function pendingFailover(o: Observed): Failover | undefined {
  const cached = o.tp.status?.primary;
  const uid = o.raw.metadata.uid ?? "";
  const memo = decidedFailover.get(uid);
  if (memo && cached === memo.from && cached !== memo.to) return memo;
  decidedFailover.delete(uid);
  return undefined;
}

/** reconcileDatabase: the database's objects are applied by reconcileObjects; this decides roles. */
export async function reconcileDatabase(ctx: ReconcileContext, o: Observed): Promise<void> {
  const tp = o.tp;
  const ns = tp.metadata.namespace ?? "default";
  const pods = ctx.caches.Pod.list(
    (p) =>
      p.metadata.namespace === ns &&
      p.metadata.labels?.[LABEL_PIPELINE] === tp.metadata.name &&
      p.metadata.labels?.[LABEL_COMPONENT] === "database",
  );
  const switchoverTo = tp.metadata.annotations?.["tradepipe.io/switchover-to"];
  // Whether the recorded primary has served since it was chosen, read back from the status
  // this step wrote (reason PrimaryReady, or PrimaryNotReady once it stopped being Ready).
  const previous = tp.status?.conditions?.find((c) => c.type === "DatabaseReady");
  const primaryHasServed =
    previous?.reason === "PrimaryReady" || previous?.reason === "PrimaryNotReady";
  const pending = pendingFailover(o);
  const recordedPrimary = pending?.to ?? tp.status?.primary;
  const decision = evaluateDatabaseRoles({
    pods: pods.map(podView),
    recordedPrimary,
    primaryHasServed,
    failoverDelaySeconds: tp.spec.database.failoverDelaySeconds,
    switchoverTo,
    nowMs: ctx.now(),
  });
  ctx.log.debug(
    { pipeline: tp.metadata.name, pods: pods.map(podView), primaryHasServed, decision },
    "database roles",
  );
  for (const { pod, role } of decision.labels) await labelPod(ctx, ns, pod, role);
  for (const pod of decision.deletePods) {
    const uid = pods.find((p) => p.metadata.name === pod)?.metadata.uid;
    await deleteObject(ctx.client, "Pod", ns, pod, uid);
  }
  if (pending && !decision.failover) o.database.failover = pending;
  if (decision.failover) {
    const f = decision.failover;
    const time = toRfc3339(new Date(ctx.now()));
    o.database.failover = { ...f, time };
    decidedFailover.set(o.raw.metadata.uid ?? "", o.database.failover);
    ctx.recorder.event(
      o.raw,
      "Warning",
      f.reason === "Switchover" ? "Switchover" : "Failover",
      `database primary moved from ${f.from} to ${f.to} (${f.reason}); ${f.from} fenced`,
    );
  }
  if (decision.requeueAfterMs !== undefined) requeueSoon(o, decision.requeueAfterMs);
  const primaryPod = pods.find((p) => p.metadata.name === decision.primary);
  const ready = primaryPod ? isPodReady(primaryPod) && !decision.failover : false;
  const replicasReady = pods.filter(
    (p) => p.metadata.name !== decision.primary && isPodReady(p),
  ).length;
  if (decision.primary) o.database.primary = decision.primary;
  o.database.ready = ready;
  o.database.reason = ready
    ? "PrimaryReady"
    : decision.failover
      ? "FailingOver"
      : primaryHasServed && decision.primary === recordedPrimary
        ? "PrimaryNotReady"
        : "PrimaryStarting";
  o.database.message = ready
    ? `primary ${decision.primary} ready, ${replicasReady} of ${tp.spec.database.instances - 1} standby ready`
    : (decision.waiting ?? "waiting for the primary");
  if (!ready) requeueSoon(o, 2000);
}

async function labelPod(ctx: ReconcileContext, ns: string, pod: string, role: DbRole) {
  await serverSideApply(ctx.client, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: pod, namespace: ns, labels: { [LABEL_DB_ROLE]: role } },
  });
}

export function isPodReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] })
    ?.conditions;
  return conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

function podView(pod: KubeObject): DbPodView {
  const conditions =
    (pod.status as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] })
      ?.conditions ?? [];
  const readyCondition = conditions.find((c) => c.type === "Ready");
  const ready = readyCondition?.status === "True";
  const since = readyCondition?.lastTransitionTime ?? pod.metadata.creationTimestamp;
  const role = pod.metadata.labels?.[LABEL_DB_ROLE] as DbRole | undefined;
  return {
    name: pod.metadata.name,
    ordinal: Number(pod.metadata.name.split("-").pop()),
    ready,
    role,
    notReadySinceMs: ready || !since ? undefined : Date.parse(since),
    deleting: Boolean(pod.metadata.deletionTimestamp),
  };
}
