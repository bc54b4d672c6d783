/**
 * steps: the reconcile steps that only apply desired objects — configuration, the stages'
 * identity, the simulator and the stage workloads. Each is `(ctx, observed) → Promise<void>`.
 */
import { buildConfigMap } from "../specs/config-map.ts";
import {
  buildRole,
  buildRoleBinding,
  buildServiceAccount,
  buildStageLeases,
} from "../specs/rbac.ts";
import { buildSimulatorDeployment, buildSimulatorService } from "../specs/simulator.ts";
import {
  buildStagePdbs,
  buildStageServices,
  buildStageWorkloads,
} from "../specs/stage-workload.ts";
import type { Observed, ReconcileContext } from "./context.ts";
import { ensure, ensureAll } from "./ensure.ts";

export async function reconcileConfig(ctx: ReconcileContext, o: Observed): Promise<void> {
  await ensure(ctx, buildConfigMap(o.tp));
}

/** reconcileRbac: the stages' ServiceAccount, Role, RoleBinding and their Leases. */
export async function reconcileRbac(ctx: ReconcileContext, o: Observed): Promise<void> {
  // The Role must exist before its binding: the apiserver checks a binding against its role.
  await ensureAll(ctx, [buildServiceAccount(o.tp), buildRole(o.tp)]);
  await ensure(ctx, buildRoleBinding(o.tp));
  await ensureAll(ctx, buildStageLeases(o.tp, killSwitchWanted(o)));
}

export function killSwitchWanted(o: Observed): boolean {
  return o.tp.spec.killSwitch || Boolean(o.raw.metadata.deletionTimestamp);
}

export async function reconcileSimulator(ctx: ReconcileContext, o: Observed): Promise<void> {
  if (o.tp.spec.broker.kind !== "simulator") return;
  await ensureAll(ctx, [buildSimulatorDeployment(o.tp), buildSimulatorService(o.tp)]);
}

export async function reconcileStages(ctx: ReconcileContext, o: Observed): Promise<void> {
  await ensureAll(ctx, [
    ...buildStageServices(o.tp),
    ...buildStageWorkloads(o.tp),
    ...buildStagePdbs(o.tp),
  ]);
}
