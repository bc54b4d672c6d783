/**
 * finalizer: deleting a TradingPipeline first halts trading. The operator engages the kill
 * switch on the stage Leases (annotation tradepipe.io/kill-switch=engaged, applied by
 * reconcileRbac because the pipeline is being deleted) and waits, at most haltTimeoutMs, for the
 * execution stage to report halted; then it removes its finalizer and the garbage collector
 * deletes every child (they all carry the pipeline as controller owner).
 *
 * "Halted" is read from the execution-engine Lease (see haltState). Why the Lease and not an
 * HTTP call to the risk manager or a database function: the Lease is the one channel every
 * active stage instance already reads and writes every renew period (≤ 0.5 s), it needs no
 * network path from the operator to the pods (NetworkPolicies), no database credentials in
 * the operator, and it survives an instance hand-over: the new leader sees the request at once.
 */
import {
  ANNOTATION_FENCING_EPOCH,
  ANNOTATION_HALTED,
  ANNOTATION_KILL_SWITCH,
  ANNOTATION_OWNER_UID,
  controlAuthBindingName,
  FINALIZER,
  stageLeaseName,
} from "../api/names.ts";
import { deleteObject, isStatus, type KubeObject, removeFinalizer } from "../kube/apply.ts";
import { RESOURCES, resourcePath } from "../kube/resources.ts";
import { buildStageLeases } from "../specs/rbac.ts";
import { type Observed, observeWrite, type ReconcileContext, requeueSoon } from "./context.ts";

export type HaltState = { halted: true; why: string } | { halted: false; why: string };

/**
 * haltState: the execution stage has halted when no instance leads it (no Lease, no holder, or a
 * Lease not renewed for its duration plus a second of grace), or when its leader has written
 * tradepipe.io/halted equal to its fencing epoch.
 */
export function haltState(lease: KubeObject | undefined, nowMs: number): HaltState {
  if (!lease) return { halted: true, why: "no execution-engine lease: no instance ever led" };
  const spec = (lease.spec ?? {}) as {
    holderIdentity?: string;
    renewTime?: string;
    leaseDurationSeconds?: number;
  };
  if (!spec.holderIdentity)
    return { halted: true, why: "no execution-engine instance holds the lease" };
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
  const expiresAt = renewed + (spec.leaseDurationSeconds ?? 0) * 1000 + 1000;
  if (nowMs > expiresAt) return { halted: true, why: `lease of ${spec.holderIdentity} expired` };
  const epoch = lease.metadata.annotations?.[ANNOTATION_FENCING_EPOCH];
  const halted = lease.metadata.annotations?.[ANNOTATION_HALTED];
  if (epoch !== undefined && halted === epoch) {
    return { halted: true, why: `${spec.holderIdentity} reported halted at epoch ${epoch}` };
  }
  return { halted: false, why: `waiting for ${spec.holderIdentity} to report halted` };
}

/**
 * engageKillSwitch asks every EXISTING stage Lease to halt, with a merge patch preconditioned on
 * the cached resourceVersion. IMPORTANT: never create or apply a Lease here: a terminating
 * namespace refuses new objects, and an error on this path must not keep the pipeline from
 * reaching its finalizer (`kubectl delete namespace` would hang). A Lease that is gone needs no
 * halt; a conflict is retried by the next pass; any other error is logged and the finalizer's
 * halt timeout still bounds the wait.
 */
export async function engageKillSwitch(ctx: ReconcileContext, o: Observed): Promise<void> {
  const ns = o.raw.metadata.namespace ?? "default";
  await Promise.all(
    buildStageLeases(o.tp, true).map(async (manifest) => {
      const name = manifest.metadata.name;
      const lease = ctx.caches.Lease.get(ns, name);
      if (!lease || lease.metadata.annotations?.[ANNOTATION_KILL_SWITCH] === "engaged") return;
      try {
        const written = await ctx.client.request<KubeObject>(
          "PATCH",
          resourcePath(RESOURCES.Lease, ns, name),
          {
            body: {
              metadata: {
                resourceVersion: lease.metadata.resourceVersion,
                annotations: { [ANNOTATION_KILL_SWITCH]: "engaged" },
              },
            },
            contentType: "application/merge-patch+json",
          },
        );
        observeWrite(ctx, written);
      } catch (err) {
        if (isStatus(err, 404)) return;
        if (isStatus(err, 409)) requeueSoon(o, 250);
        else
          ctx.log.warn(
            { lease: name, err: (err as Error).message },
            "could not engage the kill switch",
          );
      }
    }),
  );
}

/** finalize runs after the deletion-time reconcile steps; true once the finalizer is gone. */
export async function finalize(ctx: ReconcileContext, o: Observed): Promise<boolean> {
  const raw = o.raw;
  if (!raw.metadata.finalizers?.includes(FINALIZER)) return true;
  const ns = raw.metadata.namespace ?? "default";
  const lease = ctx.caches.Lease.get(ns, stageLeaseName(raw.metadata.name, "execution-engine"));
  const state = haltState(lease, ctx.now());
  const deletedAt = Date.parse(raw.metadata.deletionTimestamp ?? new Date(ctx.now()).toISOString());
  const waitedMs = ctx.now() - deletedAt;
  if (!state.halted && waitedMs < ctx.haltTimeoutMs) {
    requeueSoon(o, 250);
    return false;
  }
  if (state.halted) ctx.recorder.event(raw, "Normal", "Halted", `trading halted: ${state.why}`);
  else {
    ctx.recorder.event(
      raw,
      "Warning",
      "HaltTimeout",
      `no halt reported within ${Math.round(ctx.haltTimeoutMs / 1000)} s (${state.why}); deleting anyway`,
    );
  }
  await deleteClusterScopedChildren(ctx, raw);
  await removeFinalizer(ctx.client, raw, FINALIZER);
  return true;
}

/**
 * deleteClusterScopedChildren: the garbage collector deletes only children that name the
 * pipeline as owner, which a cluster-scoped object may not; the control listener's
 * ClusterRoleBinding is deleted here, and only when its owner annotation is this pipeline (a
 * binding of that name someone else made stays). A failure is reported, never a reason to keep
 * the pipeline (and a `kubectl delete namespace`) waiting forever.
 */
async function deleteClusterScopedChildren(ctx: ReconcileContext, raw: KubeObject): Promise<void> {
  const name = controlAuthBindingName(raw.metadata.namespace ?? "default", raw.metadata.name);
  try {
    const list = await ctx.client.request<{ items: KubeObject[] }>(
      "GET",
      resourcePath(RESOURCES.ClusterRoleBinding),
      { query: { fieldSelector: `metadata.name=${name}` } },
    );
    const binding = list.items[0];
    if (!binding || binding.metadata.annotations?.[ANNOTATION_OWNER_UID] !== raw.metadata.uid) {
      return;
    }
    await deleteObject(ctx.client, "ClusterRoleBinding", "", name, binding.metadata.uid);
  } catch (err) {
    ctx.log.warn({ binding: name, err: (err as Error).message }, "could not delete a binding");
    ctx.recorder.event(
      raw,
      "Warning",
      "DeleteFailed",
      `ClusterRoleBinding ${name}: ${(err as Error).message}; delete it by hand`,
    );
  }
}
