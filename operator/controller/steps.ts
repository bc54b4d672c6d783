/**
 * steps: the reconcile step that applies every desired object of a pipeline. Objects go in two
 * waves, each wave applied concurrently: first everything that others refer to (ConfigMaps,
 * the ServiceAccount and Role, Leases, Services, PodDisruptionBudgets, the database
 * credentials), then what refers to them (RoleBinding → Role, workloads → ServiceAccount,
 * ConfigMaps, Secret), so pods are never created before their ServiceAccount exists (the
 * admission plugin would refuse them and the StatefulSet controller would back off).
 */
import { randomBytes } from "node:crypto";
import { generateCurveKeyPair } from "../../services/core/bus/curve.ts";
import {
  buildDatabaseConfig,
  buildDatabasePdbs,
  buildDatabaseRbac,
  buildDatabaseSecret,
  buildDatabaseServices,
  buildDatabaseStatefulSet,
} from "../postgres/resources.ts";
import type { Manifest } from "../specs/common.ts";
import { buildConfigMap } from "../specs/config-map.ts";
import {
  buildDatabaseTlsSecret,
  databaseTlsSecretIdentity,
  generateDatabaseTls,
} from "../specs/database-tls.ts";
import { buildNetworkPolicies, type NetworkSettings } from "../specs/network-policy.ts";
import {
  buildControlAuthBinding,
  buildRoleBindings,
  buildRoles,
  buildServiceAccounts,
  buildStageLeases,
} from "../specs/rbac.ts";
import {
  buildBusCurveSecret,
  buildSimulatorSecret,
  generateSimulatorCredentials,
} from "../specs/secrets.ts";
import { buildSimulatorDeployment, buildSimulatorService } from "../specs/simulator.ts";
import {
  buildStagePdbs,
  buildStageServices,
  buildStageWorkloads,
} from "../specs/stage-workload.ts";
import type { Observed, ReconcileContext } from "./context.ts";
import { checkBrokerCredentials } from "./credentials.ts";
import { ensureAll, ensureCreated, ensureCreatedWith } from "./ensure.ts";

export function killSwitchWanted(o: Observed): boolean {
  return o.tp.spec.killSwitch || Boolean(o.raw.metadata.deletionTimestamp);
}

/**
 * desiredObjects: the two waves for a pipeline (pure). The NetworkPolicies go first: a pod must
 * never start on an open network.
 */
export function desiredObjects(
  o: Observed,
  network?: NetworkSettings,
): { first: Manifest[]; second: Manifest[] } {
  const tp = o.tp;
  const simulator = tp.spec.broker.kind === "simulator";
  const [dbServiceAccount, dbRole, dbRoleBinding] = buildDatabaseRbac(tp);
  return {
    first: [
      ...buildNetworkPolicies(tp, network),
      buildConfigMap(tp),
      ...buildServiceAccounts(tp),
      ...buildRoles(tp),
      ...buildStageLeases(tp, killSwitchWanted(o)),
      buildDatabaseConfig(tp),
      dbServiceAccount,
      dbRole,
      ...buildDatabaseServices(tp),
      ...buildDatabasePdbs(tp),
      ...buildStageServices(tp),
      ...buildStagePdbs(tp),
      ...(simulator ? [buildSimulatorService(tp)] : []),
    ],
    second: [
      ...buildRoleBindings(tp),
      buildControlAuthBinding(tp),
      dbRoleBinding,
      buildDatabaseStatefulSet(tp),
      ...buildStageWorkloads(tp),
      ...(simulator ? [buildSimulatorDeployment(tp)] : []),
    ],
  };
}

export async function reconcileObjects(ctx: ReconcileContext, o: Observed): Promise<void> {
  // IMPORTANT: before any pod may mount the broker Secret.
  await checkBrokerCredentials(ctx, o);
  const { first, second } = desiredObjects(o, ctx.network);
  const secret = () => randomBytes(18).toString("base64url");
  const passwords = { app: secret(), superuser: secret(), replication: secret(), rewind: secret() };
  const [created] = await Promise.all([
    ensureCreated(ctx, buildDatabaseSecret(o.tp, passwords)),
    // Before the database pods, which mount it (ssl on), and the stage pods, which trust its CA.
    ensureCreatedWith(ctx, databaseTlsSecretIdentity(o.tp), async () =>
      buildDatabaseTlsSecret(o.tp, await generateDatabaseTls(o.tp, new Date())),
    ),
    ensureCreated(ctx, buildBusCurveSecret(o.tp, generateCurveKeyPair())),
    ...(o.tp.spec.broker.kind === "simulator"
      ? [ensureCreated(ctx, buildSimulatorSecret(o.tp, generateSimulatorCredentials()))]
      : []),
    ensureAll(ctx, first),
  ]);
  if (created) {
    ctx.recorder.event(o.raw, "Normal", "CredentialsCreated", "generated the database credentials");
  }
  await ensureAll(ctx, second);
}
