/**
 * rbac: the identities of the stage pods. They need exactly one thing from the apiserver: their
 * stage Lease (leadership with a fencing epoch, and the operator's kill-switch requests). Each
 * stage of a distributed pipeline gets its own ServiceAccount whose Role names its own Lease and
 * nothing else, so a compromised stage cannot forge another stage's halt acknowledgement or
 * strip its kill-switch annotation. A colocated pod runs all five stages in one pod (one
 * identity), so its ServiceAccount holds the five Leases. Pure.
 */
import type {
  V1ClusterRoleBinding,
  V1Lease,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import { STAGE_PROCESSES, type StageProcess } from "../../services/pipeline/stages.ts";
import {
  ANNOTATION_KILL_SWITCH,
  ANNOTATION_OWNER_UID,
  commonLabels,
  controlAuthBindingName,
  LABEL_NAMESPACE,
  LABEL_STAGE,
  stageLeaseName,
  stageServiceAccountName,
} from "../api/names.ts";
import { type Manifest, namespaceOf, ownerReference, withDigest } from "./common.ts";
import { CONTROL_STAGE } from "./stage-pod.ts";

function meta(tp: TradingPipeline, name: string) {
  return {
    name,
    namespace: namespaceOf(tp),
    labels: commonLabels(tp.metadata.name, "stages"),
    ownerReferences: [ownerReference(tp)],
  };
}

/** StageIdentity: one ServiceAccount and the Leases it may use. */
export interface StageIdentity {
  serviceAccount: string;
  leases: string[];
}

export function stageIdentities(tp: TradingPipeline): StageIdentity[] {
  const p = tp.metadata.name;
  if (tp.spec.placement.topology === "colocated") {
    const leases = STAGE_PROCESSES.map((s) => stageLeaseName(p, s));
    return [{ serviceAccount: stageServiceAccountName(p, "all"), leases }];
  }
  return STAGE_PROCESSES.map((s: StageProcess) => ({
    serviceAccount: stageServiceAccountName(p, s),
    leases: [stageLeaseName(p, s)],
  }));
}

export function buildServiceAccounts(tp: TradingPipeline): (V1ServiceAccount & Manifest)[] {
  return stageIdentities(tp).map((id) =>
    withDigest({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: meta(tp, id.serviceAccount),
      automountServiceAccountToken: true,
    }),
  );
}

export function buildRoles(tp: TradingPipeline): (V1Role & Manifest)[] {
  return stageIdentities(tp).map((id) =>
    withDigest({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta(tp, id.serviceAccount),
      rules: [
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          resourceNames: id.leases,
          verbs: ["get", "watch", "update", "patch"],
        },
      ],
    }),
  );
}

export function buildRoleBindings(tp: TradingPipeline): (V1RoleBinding & Manifest)[] {
  return stageIdentities(tp).map((id) =>
    withDigest({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(tp, id.serviceAccount),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: id.serviceAccount },
      subjects: [{ kind: "ServiceAccount", name: id.serviceAccount, namespace: namespaceOf(tp) }],
    }),
  );
}

/**
 * buildControlAuthBinding: the risk-manager's control listener asks the API server who is
 * calling (TokenReview) and whether that user may `update tradingpipelines/killswitch`
 * (SubjectAccessReview). Both are cluster-scoped requests, so only a ClusterRoleBinding of the
 * built-in `system:auth-delegator` grants them (a RoleBinding cannot). It grants nothing else:
 * reviewing tokens and asking about access. Cluster-scoped, it cannot name the pipeline as its
 * owner: the owner's uid is an annotation and the operator deletes it with the pipeline
 * (controller/finalizer.ts). Its namespace is "" (cluster-scoped paths).
 */
export function buildControlAuthBinding(tp: TradingPipeline): V1ClusterRoleBinding & Manifest {
  const p = tp.metadata.name;
  const ns = namespaceOf(tp);
  const colocated = tp.spec.placement.topology === "colocated";
  const serviceAccount = stageServiceAccountName(p, colocated ? "all" : CONTROL_STAGE);
  return withDigest({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: {
      name: controlAuthBindingName(ns, p),
      namespace: "",
      labels: { ...commonLabels(p, "stages"), [LABEL_NAMESPACE]: ns },
      annotations: { [ANNOTATION_OWNER_UID]: ownerReference(tp).uid },
      ownerReferences: [],
    },
    roleRef: {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "system:auth-delegator",
    },
    subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace: ns }],
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
