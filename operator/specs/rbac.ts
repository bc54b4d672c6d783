/**
 * rbac: the identity of the stage pods. They need exactly one thing from the apiserver: their
 * stage Leases (leadership with a fencing epoch, and the operator's kill-switch requests), so
 * the Role names those Leases and nothing else. Pure.
 */
import type { V1Lease, V1Role, V1RoleBinding, V1ServiceAccount } from "@kubernetes/client-node";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import {
  ANNOTATION_KILL_SWITCH,
  commonLabels,
  LABEL_STAGE,
  stageLeaseName,
  stageServiceAccountName,
} from "../api/names.ts";
import { type Manifest, namespaceOf, ownerReference, withDigest } from "./common.ts";

function meta(tp: TradingPipeline, name: string) {
  return {
    name,
    namespace: namespaceOf(tp),
    labels: commonLabels(tp.metadata.name, "stages"),
    ownerReferences: [ownerReference(tp)],
  };
}

export function buildServiceAccount(tp: TradingPipeline): V1ServiceAccount & Manifest {
  return withDigest({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: meta(tp, stageServiceAccountName(tp.metadata.name)),
    automountServiceAccountToken: true,
  });
}

export function buildRole(tp: TradingPipeline): V1Role & Manifest {
  const leases = STAGE_PROCESSES.map((s) => stageLeaseName(tp.metadata.name, s));
  return withDigest({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(tp, stageServiceAccountName(tp.metadata.name)),
    rules: [
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: leases,
        verbs: ["get", "watch", "update", "patch"],
      },
    ],
  });
}

export function buildRoleBinding(tp: TradingPipeline): V1RoleBinding & Manifest {
  const name = stageServiceAccountName(tp.metadata.name);
  return withDigest({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(tp, name),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace: namespaceOf(tp) }],
  });
}

/**
 * buildStageLeases: the operator creates each stage's Lease (owned by the pipeline, so it goes
 * with it) and owns only its labels and the kill-switch annotation; the stage instances own the
 * spec (holder, renew time) and the fencing-epoch and halted annotations.
 */
export function buildStageLeases(
  tp: TradingPipeline,
  killSwitchEngaged: boolean,
): (V1Lease & Manifest)[] {
  return STAGE_PROCESSES.map((stage) => {
    const m = meta(tp, stageLeaseName(tp.metadata.name, stage));
    return withDigest({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        ...m,
        labels: { ...m.labels, [LABEL_STAGE]: stage },
        ...(killSwitchEngaged ? { annotations: { [ANNOTATION_KILL_SWITCH]: "engaged" } } : {}),
      },
    });
  });
}
