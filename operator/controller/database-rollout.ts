/**
 * database-rollout: the step that brings database pods onto the StatefulSet's current template
 * (its update strategy is OnDelete, so only this step replaces them). planDatabaseRollout
 * (postgres/database-rollout.ts, pure) decides from the pods' revisions and Patroni's view;
 * this step deletes the one pod it names, or asks the leader's Patroni for the switchover it
 * names, and says in DatabaseReady (reason RollingOut) what it does or waits for.
 */
import { ANNOTATION_SWITCHOVER, databaseName } from "../api/names.ts";
import { deleteObject } from "../kube/apply.ts";
import {
  chooseCandidate,
  type DatabaseRolloutPlan,
  patroniView,
  planDatabaseRollout,
} from "../postgres/index.ts";
import { type Observed, type ReconcileContext, requeueSoon } from "./context.ts";
import { askSwitchover, databasePods, isPodReady, PATRONI_TIMEOUT_MS } from "./database.ts";

export async function reconcileDatabaseRollout(ctx: ReconcileContext, o: Observed): Promise<void> {
  const ns = o.tp.metadata.namespace ?? "default";
  const sts = ctx.caches.StatefulSet.get(ns, databaseName(o.tp.metadata.name));
  if (!sts) return;
  const status = (sts.status ?? {}) as { observedGeneration?: number; updateRevision?: string };
  const pods = databasePods(ctx, o).filter(
    (p) => p.metadata.ownerReferences?.some((r) => r.uid === sts.metadata.uid) === true,
  );
  const view = o.database.patroni ?? patroniView(pods as never);
  // A switchover this pass saw completed (null) is no longer pending; one asked this pass is.
  const pending =
    o.database.switchover === undefined ? o.tp.status?.switchover : o.database.switchover;
  const plan = planDatabaseRollout({
    updateRevision: status.updateRevision,
    statusCurrent: (status.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0),
    instances: o.tp.spec.database.instances,
    synchronous: o.tp.spec.database.synchronous,
    pods: pods.map((p) => ({
      name: p.metadata.name,
      revision: p.metadata.labels?.["controller-revision-hash"],
      deleting: Boolean(p.metadata.deletionTimestamp),
      ready: isPodReady(p),
    })),
    view,
    requestedSwitchover: o.raw.metadata.annotations?.[ANNOTATION_SWITCHOVER],
    pendingSwitchover: pending
      ? { from: pending.from, to: pending.to, ageMs: ctx.now() - Date.parse(pending.time) }
      : undefined,
  });
  if (plan.action === "none") return;
  if (plan.action === "wait") {
    if (!plan.quiet) report(o, plan.reason);
    requeueSoon(o, 2000);
    return;
  }
  report(o, plan.reason);
  if (plan.action === "delete") {
    const uid = pods.find((p) => p.metadata.name === plan.pod)?.metadata.uid;
    await deleteObject(ctx.client, "Pod", ns, plan.pod, uid);
    ctx.recorder.event(
      o.raw,
      plan.downtime ? "Warning" : "Normal",
      "RollingDatabase",
      `${plan.reason} (onto revision ${status.updateRevision})`,
    );
    requeueSoon(o, 1000);
    return;
  }
  await switchOver(ctx, o, plan);
}

/** switchOver names the candidate Patroni's own view accepts, and asks once. */
async function switchOver(
  ctx: ReconcileContext,
  o: Observed,
  plan: Extract<DatabaseRolloutPlan, { action: "switchover" }>,
): Promise<void> {
  requeueSoon(o, 2000);
  const apiUrl = o.database.patroni?.members.find((m) => m.name === plan.leader)?.apiUrl;
  if (!apiUrl) {
    report(o, `${plan.reason}: the leader's Patroni API address is not known yet`);
    return;
  }
  let members: { name: string; role?: string; state?: string }[];
  try {
    const r = await fetch(`${apiUrl}/cluster`, { signal: AbortSignal.timeout(PATRONI_TIMEOUT_MS) });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    members = ((await r.json()) as { members?: typeof members }).members ?? [];
  } catch (err) {
    report(o, `${plan.reason}: cannot read Patroni's cluster view (${(err as Error).message})`);
    return;
  }
  const choice = chooseCandidate(plan.candidates, members, o.tp.spec.database.synchronous);
  if ("none" in choice) {
    report(o, `${plan.reason}: ${choice.none}`);
    return;
  }
  await askSwitchover(
    ctx,
    o,
    { apiUrl, leader: plan.leader, candidate: choice.candidate },
    "database rollout: ",
  );
}

/** report puts what the rollout does into DatabaseReady (reason RollingOut while it is Ready). */
function report(o: Observed, what: string): void {
  o.database.rollout = what;
  if (o.database.ready) o.database.reason = "RollingOut";
  o.database.message = `${what}; ${o.database.message}`;
}
