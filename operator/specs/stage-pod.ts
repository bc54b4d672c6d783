/**
 * stage-pod: the containers, volumes and scheduling of stage pods, shared by the distributed
 * (one stage per pod) and colocated (five stages per pod) workloads. Pure.
 */
import type {
  V1Affinity,
  V1Container,
  V1EnvVar,
  V1PodSpec,
  V1Toleration,
  V1TopologySpreadConstraint,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import { STAGE_NAMES, type TradingPipeline } from "../../services/core/spec/index.ts";
import { BUS_PORT } from "../../services/pipeline/endpoints.ts";
import { STAGE_PROCESS, type StageProcess } from "../../services/pipeline/stages.ts";
import {
  busCurveSecretName,
  configMapName,
  databaseSecretName,
  LABEL_PIPELINE,
  LABEL_STAGE,
  simulatorName,
  simulatorSecretName,
  stageLeaseName,
  stageServiceAccountName,
  stageServiceName,
} from "../api/names.ts";
import { guaranteed, namespaceOf, restrictedContainer, restrictedPod } from "./common.ts";
import { CONFIG_DIR, CONFIG_FILE } from "./config-map.ts";
import { stageDatabaseCaEnv, stageDatabaseCaMount, stageDatabaseCaVolume } from "./database-tls.ts";
import { SIMULATOR_SECRET_KEYS } from "./secrets.ts";
import { SIMULATOR_PORT } from "./simulator.ts";

export const RUN_DIR = "/run/tradepipe";
export const BROKER_SECRET_DIR = "/var/run/secrets/tradepipe/broker";
/** BUS_CURVE_DIR holds the pipeline's CURVE key pair (distributed: the bus crosses pods). */
export const BUS_CURVE_DIR = "/var/run/secrets/tradepipe/bus";
/**
 * CONTROL_PORT: the risk-manager's authenticated control listener (the kill switch), TCP in a
 * pod; every request is authenticated by the API server (TokenReview + SubjectAccessReview,
 * services/core/control/kube-auth.ts). It is not the metrics port: that one is read-only.
 */
export const CONTROL_PORT = 8790;
/** CONTROL_STAGE: the stage whose control routes change something (the kill switch). */
export const CONTROL_STAGE: StageProcess = "risk-manager";
/** MIGRATE_RESOURCES sizes the init container; a pod's request is the max of init and main. */
export const MIGRATE_RESOURCES = { cpu: 1, memory: "256Mi" } as const;

/** metricsPortName: "metrics" for a lone stage; colocated stages add a suffix (names ≤ 15 chars). */
export function metricsPortName(stage: StageProcess, colocated: boolean): string {
  if (!colocated) return "metrics";
  const short = stage
    .split("-")
    .map((w) => w[0])
    .join("");
  return `metrics-${short}`;
}

/** healthPort: colocated stages take consecutive ports in pipeline order (as on one host). */
export function healthPort(tp: TradingPipeline, stage: StageProcess, colocated: boolean): number {
  const base = tp.spec.observability.metricsPort;
  if (!colocated) return base;
  return base + STAGE_NAMES.findIndex((n) => STAGE_PROCESS[n] === stage);
}

/** Where the database Secret's `uri` is mounted: a file, never an environment variable. */
export const DATABASE_URL_DIR = "/var/run/secrets/tradepipe/database";
/** JOURNAL_DIR: the execution engine's order journal (an emptyDir volume of the pod). */
export const JOURNAL_DIR = "/var/lib/tradepipe/journal";

function databaseUrlEnv(_tp: TradingPipeline): V1EnvVar {
  return { name: "DATABASE_URL_FILE", value: `${DATABASE_URL_DIR}/uri` };
}

const databaseUrlMount: V1VolumeMount = {
  name: "database-url",
  mountPath: DATABASE_URL_DIR,
  readOnly: true,
};

function sharedEnv(tp: TradingPipeline, colocated: boolean): V1EnvVar[] {
  const name = tp.metadata.name;
  const ns = namespaceOf(tp);
  const env: V1EnvVar[] = [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: "TRADEPIPE_PIPELINE", value: name },
    { name: "TRADEPIPE_SPEC_FILE", value: `${CONFIG_DIR}/${CONFIG_FILE}` },
    databaseUrlEnv(tp),
    stageDatabaseCaEnv,
  ];
  if (colocated) {
    env.push(
      { name: "TRADEPIPE_RUN_DIR", value: RUN_DIR },
      // The pod's stages share ipc:// sockets, so they lead together (leadership-group.ts).
      {
        name: "TRADEPIPE_LEADERSHIP_GROUP",
        valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
      },
    );
  } else {
    // endpoints.ts replaces {stage} with the stage's process name.
    const pattern = `${stageServiceName(name, "{stage}" as StageProcess)}.${ns}.svc`;
    env.push(
      { name: "TRADEPIPE_BUS_TCP_HOSTS", value: pattern },
      { name: "TRADEPIPE_BUS_CURVE_DIR", value: BUS_CURVE_DIR },
    );
  }
  if (brokerSecret(tp)) {
    env.push({ name: "TRADEPIPE_BROKER_SECRET_DIR", value: BROKER_SECRET_DIR });
  }
  if (tp.spec.broker.kind === "simulator") {
    const url = `http://${simulatorName(name)}.${ns}.svc:${SIMULATOR_PORT}`;
    env.push({ name: "TRADEPIPE_SIM_URL", value: url });
  }
  return env;
}

function volumeMounts(tp: TradingPipeline, colocated: boolean): V1VolumeMount[] {
  const mounts: V1VolumeMount[] = [
    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
    { name: "tmp", mountPath: "/tmp" },
    databaseUrlMount,
    stageDatabaseCaMount,
  ];
  if (colocated) mounts.push({ name: "run", mountPath: RUN_DIR });
  else mounts.push({ name: "bus-curve", mountPath: BUS_CURVE_DIR, readOnly: true });
  if (brokerSecret(tp)) {
    mounts.push({ name: "broker-credentials", mountPath: BROKER_SECRET_DIR, readOnly: true });
  }
  return mounts;
}

/** stageContainer runs one stage: `tradepipe stage <name> -f pipeline.yaml`. */
export function stageContainer(
  tp: TradingPipeline,
  stage: StageProcess,
  colocated: boolean,
): V1Container {
  const spec = tp.spec.stages[specKey(stage)];
  const port = healthPort(tp, stage, colocated);
  const portName = metricsPortName(stage, colocated);
  const ports = [{ name: portName, containerPort: port, protocol: "TCP" }];
  if (!colocated) ports.push({ name: "bus", containerPort: BUS_PORT, protocol: "TCP" });
  const control: V1EnvVar[] = [];
  if (stage === CONTROL_STAGE) {
    ports.push({ name: "control", containerPort: CONTROL_PORT, protocol: "TCP" });
    // With POD_NAMESPACE (sharedEnv): the listener authenticates through the API server.
    control.push({ name: "TRADEPIPE_CONTROL_PORT", value: String(CONTROL_PORT) });
  }
  return {
    name: stage,
    image: tp.spec.image,
    imagePullPolicy: "IfNotPresent",
    args: ["stage", stage, "-f", `${CONFIG_DIR}/${CONFIG_FILE}`],
    env: [
      ...sharedEnv(tp, colocated),
      { name: "TRADEPIPE_STAGE_LEASE", value: stageLeaseName(tp.metadata.name, stage) },
      { name: "TRADEPIPE_HEALTH_PORT", value: String(port) },
      { name: "TRADEPIPE_HEALTH_HOST", value: "0.0.0.0" },
      ...control,
      ...(stage === "execution-engine"
        ? [{ name: "TRADEPIPE_JOURNAL_DIR", value: JOURNAL_DIR }]
        : []),
    ],
    ports,
    resources: guaranteed(spec.resources.cpu, spec.resources.memory),
    livenessProbe: {
      httpGet: { path: "/health", port: portName },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    // /ready is true only on the instance holding the stage lease: the Service sends
    // subscribers to the active instance and never to a standby.
    readinessProbe: {
      httpGet: { path: "/ready", port: portName },
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 2,
    },
    securityContext: restrictedContainer(),
    volumeMounts: [
      ...volumeMounts(tp, colocated),
      ...(stage === "execution-engine" ? [{ name: "journal", mountPath: JOURNAL_DIR }] : []),
    ],
  };
}

/** migrateContainer applies pending migrations before the stages start (safe concurrently). */
export function migrateContainer(tp: TradingPipeline): V1Container {
  return {
    name: "migrate",
    image: tp.spec.image,
    imagePullPolicy: "IfNotPresent",
    args: ["migrate"],
    env: [databaseUrlEnv(tp), stageDatabaseCaEnv],
    resources: guaranteed(MIGRATE_RESOURCES.cpu, MIGRATE_RESOURCES.memory),
    securityContext: restrictedContainer(),
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, databaseUrlMount, stageDatabaseCaMount],
  };
}

/**
 * brokerSecret: where the stages' broker keys come from — the pipeline's generated simulator
 * keys for `kind: simulator` (never the published development keys), else the referenced Secret.
 */
export function brokerSecret(
  tp: TradingPipeline,
): { name: string; keyIdKey: string; secretKeyKey: string } | undefined {
  if (tp.spec.broker.kind === "simulator") {
    return {
      name: simulatorSecretName(tp.metadata.name),
      keyIdKey: SIMULATOR_SECRET_KEYS.keyId,
      secretKeyKey: SIMULATOR_SECRET_KEYS.secretKey,
    };
  }
  return tp.spec.broker.credentialsSecretRef;
}

function volumes(tp: TradingPipeline, colocated: boolean): V1Volume[] {
  const out: V1Volume[] = [
    { name: "config", configMap: { name: configMapName(tp.metadata.name) } },
    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    // The execution engine's order journal: it survives a container restart in the pod; a pod
    // replaced elsewhere recovers from Postgres and the broker's order listing instead.
    { name: "journal", emptyDir: { sizeLimit: "1Gi" } },
    {
      name: "database-url",
      secret: {
        secretName: databaseSecretName(tp.metadata.name),
        defaultMode: 0o440,
        items: [{ key: "uri", path: "uri" }],
      },
    },
    // The database's CA: the stage verifies the server (TLS, verify-full) against it.
    stageDatabaseCaVolume(tp.metadata.name),
  ];
  if (colocated) out.push({ name: "run", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } });
  else {
    const secretName = busCurveSecretName(tp.metadata.name);
    out.push({ name: "bus-curve", secret: { secretName, defaultMode: 0o440 } });
  }
  const ref = brokerSecret(tp);
  if (ref) {
    out.push({
      name: "broker-credentials",
      secret: {
        secretName: ref.name,
        defaultMode: 0o440,
        // The stage reads APCA_API_KEY_ID / APCA_API_SECRET_KEY files whatever the Secret's keys.
        items: [
          { key: ref.keyIdKey, path: "APCA_API_KEY_ID" },
          { key: ref.secretKeyKey, path: "APCA_API_SECRET_KEY" },
        ],
      },
    });
  }
  return out;
}

export function tolerations(tp: TradingPipeline): V1Toleration[] {
  return tp.spec.placement.tolerations.map((t) => ({ ...t }));
}

/**
 * spreadAndAffinity keeps a stage's instances on different nodes: a hard spread (skew 1 across
 * hostnames, counting only nodes the pod may use) and a soft anti-affinity on top.
 */
export function spreadAndAffinity(selector: Record<string, string>): {
  topologySpreadConstraints: V1TopologySpreadConstraint[];
  affinity: V1Affinity;
} {
  return {
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
        nodeAffinityPolicy: "Honor",
        nodeTaintsPolicy: "Honor",
        labelSelector: { matchLabels: { ...selector } },
      },
    ],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: "kubernetes.io/hostname",
              labelSelector: { matchLabels: { ...selector } },
            },
          },
        ],
      },
    },
  };
}

export function stagePodSpec(
  tp: TradingPipeline,
  stages: readonly StageProcess[],
  selector: Record<string, string>,
): V1PodSpec {
  const colocated = stages.length > 1;
  return {
    serviceAccountName: stageServiceAccountName(
      tp.metadata.name,
      colocated ? "all" : (stages[0] as StageProcess),
    ),
    automountServiceAccountToken: true,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 30,
    securityContext: restrictedPod(),
    nodeSelector: { ...tp.spec.placement.nodeSelector },
    tolerations: tolerations(tp),
    ...spreadAndAffinity(selector),
    initContainers: [migrateContainer(tp)],
    containers: stages.map((s) => stageContainer(tp, s, colocated)),
    volumes: volumes(tp, colocated),
  };
}

export function stageSelector(pipeline: string, stage: StageProcess | "all") {
  return { [LABEL_PIPELINE]: pipeline, [LABEL_STAGE]: stage };
}

function specKey(stage: StageProcess) {
  const key = STAGE_NAMES.find((n) => STAGE_PROCESS[n] === stage);
  if (!key) throw new Error(`unknown stage ${stage}`);
  return key;
}
