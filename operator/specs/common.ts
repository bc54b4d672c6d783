/**
 * common: the parts every child object shares — owner references, the desired-state digest,
 * Guaranteed-QoS resources and the restricted security context. Pure.
 */
import { createHash } from "node:crypto";
import type {
  V1Container,
  V1OwnerReference,
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1SecurityContext,
} from "@kubernetes/client-node";
import { API_VERSION, KIND, type TradingPipeline } from "../../services/core/spec/index.ts";
import { ANNOTATION_HASH } from "../api/names.ts";

/** RUN_AS_USER is the image's non-root user (see Dockerfile). */
export const RUN_AS_USER = 10001;

/** ManifestMeta is the metadata every builder fills in. */
export interface ManifestMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: V1OwnerReference[];
}

/** Manifest is any Kubernetes object the operator applies. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: ManifestMeta;
  [field: string]: unknown;
}

/** ownerReference makes the pipeline the controller of a child, so deletion cascades. */
export function ownerReference(tp: TradingPipeline): V1OwnerReference {
  const uid = (tp.metadata as { uid?: string }).uid;
  if (!uid)
    throw new Error(`TradingPipeline ${tp.metadata.name} has no uid (not read from the API)`);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: tp.metadata.name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function namespaceOf(tp: TradingPipeline): string {
  return tp.metadata.namespace ?? "default";
}

/** digest is a short stable hash of a JSON value (keys in insertion order: builders are deterministic). */
export function digest(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/**
 * withDigest stamps a manifest with the digest of its own desired state, so an unchanged object
 * is not applied again (the informer cache shows the digest of what was applied last).
 */
export function withDigest<T extends Manifest>(manifest: T): T {
  const hash = digest(manifest);
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      annotations: { ...(manifest.metadata.annotations ?? {}), [ANNOTATION_HASH]: hash },
    },
  };
}

/**
 * guaranteed: requests equal limits with whole CPUs, so the pod is Guaranteed QoS and the
 * static CPU manager gives the container exclusive cores. IMPORTANT: every container of a pod,
 * init containers included, must use it, or the whole pod falls to Burstable.
 */
export function guaranteed(cpu: number, memory: string): V1ResourceRequirements {
  if (!Number.isInteger(cpu) || cpu < 1)
    throw new Error(`cpu must be a whole number ≥ 1, got ${cpu}`);
  const amounts = { cpu: String(cpu), memory };
  return { requests: { ...amounts }, limits: { ...amounts } };
}

/** restrictedContainer is the Pod Security "restricted" profile plus a read-only root. */
export function restrictedContainer(): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function restrictedPod(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    fsGroup: RUN_AS_USER,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** allContainers lists init, sidecar and main containers of a pod spec. */
export function allContainers(pod: { containers: V1Container[]; initContainers?: V1Container[] }) {
  return [...(pod.initContainers ?? []), ...pod.containers];
}
