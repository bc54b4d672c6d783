/**
 * stage-workload: what runs the stages. Topology `distributed`: one StatefulSet and one Service
 * per stage, the bus over tcp:// through the Services. Topology `colocated`: one StatefulSet
 * whose pods hold all five stages as containers, the bus over ipc:// sockets in a shared
 * emptyDir. Pure.
 *
 * Why StatefulSets with `updateStrategy: OnDelete`: a stage is active-passive, and only the
 * instance holding the stage lease is Ready (/ready), so a Deployment's rolling update would wait
 * forever for a standby to become Ready. The operator rolls pods itself instead, standbys first
 * and the leader last (controller/rollout.ts). Stable pod names also make stable lease holders.
 */
import type { V1PodDisruptionBudget, V1Service, V1StatefulSet } from "@kubernetes/client-node";
import { STAGE_NAMES, type TradingPipeline } from "../../services/core/spec/index.ts";
import { BUS_PORT } from "../../services/pipeline/endpoints.ts";
import {
  STAGE_PROCESS,
  STAGE_PROCESSES,
  type StageProcess,
} from "../../services/pipeline/stages.ts";
import {
  colocatedWorkloadName,
  commonLabels,
  LABEL_STAGE,
  stageServiceName,
  stageWorkloadName,
} from "../api/names.ts";
import { type Manifest, namespaceOf, ownerReference, withDigest } from "./common.ts";
import { configDigest } from "./config-map.ts";
import {
  CONTROL_PORT,
  CONTROL_STAGE,
  healthPort,
  metricsPortName,
  stagePodSpec,
  stageSelector,
} from "./stage-pod.ts";

export const ANNOTATION_CONFIG_HASH = "tradepipe.io/config-hash";

function workload(
  tp: TradingPipeline,
  name: string,
  stages: readonly StageProcess[],
  stageLabel: StageProcess | "all",
  replicas: number,
): V1StatefulSet & Manifest {
  const pipeline = tp.metadata.name;
  const selector = stageSelector(pipeline, stageLabel);
  const labels = { ...commonLabels(pipeline, stages.length > 1 ? "stages" : "stage"), ...selector };
  const first = stages[0] as StageProcess;
  const colocated = stages.length > 1;
  return withDigest({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: namespaceOf(tp), labels, ownerReferences: [ownerReference(tp)] },
    spec: {
      replicas,
      serviceName: colocated ? name : stageServiceName(pipeline, first),
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "OnDelete" },
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          annotations: {
            [ANNOTATION_CONFIG_HASH]: configDigest(tp),
            "kubectl.kubernetes.io/default-container": first,
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(healthPort(tp, first, colocated)),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: stagePodSpec(tp, stages, selector),
      },
    },
  });
}

/** buildStageWorkload is the StatefulSet of one stage (topology distributed). */
export function buildStageWorkload(tp: TradingPipeline, stage: StageProcess) {
  const key = STAGE_NAMES.find((n) => STAGE_PROCESS[n] === stage);
  if (!key) throw new Error(`unknown stage ${stage}`);
  const replicas = tp.spec.stages[key].replicas;
  return workload(tp, stageWorkloadName(tp.metadata.name, stage), [stage], stage, replicas);
}

/**
 * buildColocatedWorkload holds all five stages per pod. Its replicas are the largest of the
 * stages' replicas: a pod is the unit of failover when the stages share ipc:// sockets.
 */
export function buildColocatedWorkload(tp: TradingPipeline) {
  const replicas = Math.max(...STAGE_NAMES.map((n) => tp.spec.stages[n].replicas));
  return workload(tp, colocatedWorkloadName(tp.metadata.name), STAGE_PROCESSES, "all", replicas);
}

/** buildStageWorkloads: the workloads the spec's topology asks for. */
export function buildStageWorkloads(tp: TradingPipeline) {
  if (tp.spec.placement.topology === "colocated") return [buildColocatedWorkload(tp)];
  return STAGE_PROCESSES.map((s) => buildStageWorkload(tp, s));
}

/** buildStageService routes a stage's subscribers to its active (Ready) instance (distributed). */
export function buildStageService(tp: TradingPipeline, stage: StageProcess): V1Service & Manifest {
  const pipeline = tp.metadata.name;
  const portName = metricsPortName(stage, false);
  return withDigest({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: stageServiceName(pipeline, stage),
      namespace: namespaceOf(tp),
      labels: { ...commonLabels(pipeline, "stage"), [LABEL_STAGE]: stage },
      ownerReferences: [ownerReference(tp)],
    },
    spec: {
      type: "ClusterIP",
      selector: stageSelector(pipeline, stage),
      publishNotReadyAddresses: false,
      ports: [
        { name: "bus", port: BUS_PORT, targetPort: "bus", protocol: "TCP" },
        {
          name: portName,
          port: healthPort(tp, stage, false),
          targetPort: portName,
          protocol: "TCP",
        },
        // The Service reaches the Ready (leading) instance: the one a kill switch is meant for.
        ...(stage === CONTROL_STAGE
          ? [{ name: "control", port: CONTROL_PORT, targetPort: "control", protocol: "TCP" }]
          : []),
      ],
    },
  });
}

export function buildStageServices(tp: TradingPipeline) {
  if (tp.spec.placement.topology === "colocated") return [];
  return STAGE_PROCESSES.map((s) => buildStageService(tp, s));
}

/**
 * buildStagePdbs: voluntary disruptions (node drains) take at most one instance of a stage at a
 * time, so a standby is left to take over.
 */
export function buildStagePdbs(tp: TradingPipeline): (V1PodDisruptionBudget & Manifest)[] {
  return buildStageWorkloads(tp).map((sts) =>
    withDigest({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: {
        name: sts.metadata.name,
        namespace: sts.metadata.namespace,
        labels: sts.metadata.labels,
        ownerReferences: sts.metadata.ownerReferences,
      },
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: { ...(sts.spec?.selector.matchLabels ?? {}) } },
      },
    }),
  );
}
